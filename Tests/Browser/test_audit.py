"""The audit log in a real browser, on both demos with store-backed sessions (SESAME_SESSION_STORE=sqlite, the
embedded default store, so the trail is in the SQLite file): two devices sign in as one person, the account page's
"Recent sign-ins" lists both with their address and browser, and "Sign out that device" ends the other device's
session at once. The demo's log carries each security event as one structured line, never with the link's token.
"""

import re
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import DEMOS, HTTPClient, running_demo
from test_pages import sign_in, wait_for_path


def is_gone(element):
    """Whether `element`'s document was replaced. Selenium's `staleness_of` expects a stale-element error, but
    chromedriver asked in the middle of the navigation can answer "Node with given id does not belong to the
    document" instead (a CI failure of this test): that means gone too."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


@pytest.fixture(params=list(DEMOS))
def stored_demo(request):
    """A demo on stored sessions in SQLite."""
    with running_demo(request.param, {"SESAME_SESSION_STORE": "sqlite"}) as server:
        yield server


def recent_sign_ins(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#recent-sign-ins li.sign-in")


def test_recent_sign_ins_and_sign_out_that_device(browser, stored_demo):
    email = "audit-" + stored_demo.framework + "@example.com"
    # The other device: a script with its own cookie jar and user agent, signed in first.
    other = HTTPClient(stored_demo)
    other_link = other.sign_in_with_link(email)
    status, _, _ = other.send("/api/me")
    assert status == 200

    link = sign_in(browser, stored_demo, email)
    browser.get(stored_demo.url("/account"))
    wait_for_path(browser, "/account")
    items = recent_sign_ins(browser)
    assert len(items) == 2, browser.find_element(By.TAG_NAME, "body").text
    newest, older = items
    # Newest first: this browser's sign-in, marked as this session, with Chromium's user agent.
    assert newest.get_attribute("data-kind") == "sign_in"
    assert "(this session)" in newest.text and "with link" in newest.text
    assert "HeadlessChrome" in newest.find_element(By.CLASS_NAME, "agent").text
    assert newest.find_element(By.CLASS_NAME, "address").text == "127.0.0.1"
    assert not newest.find_elements(By.CLASS_NAME, "end-device")
    # The script's sign-in, from the same address with urllib's user agent, can be signed out from here.
    assert "Python-urllib" in older.find_element(By.CLASS_NAME, "agent").text
    assert "(this session)" not in older.text
    button = older.find_element(By.CLASS_NAME, "end-device")
    button.click()
    # The form posts and the account page comes back: wait for the old page to go before asking the other device.
    WebDriverWait(browser, 15).until(lambda _: is_gone(button))
    wait_for_path(browser, "/account")

    # The other device is signed out at once; this one is not.
    status, _, _ = other.send("/api/me")
    assert status == 401
    items = recent_sign_ins(browser)
    assert len(items) == 2 and not items[1].find_elements(By.CLASS_NAME, "end-device")
    browser.get(stored_demo.url("/api/me"))
    assert email in browser.find_element(By.TAG_NAME, "body").text

    # The log: one structured line per event, with the kind, the client and the session, never a link's token. The
    # demo's output is read by a thread, so the last event's line is waited for (it was written before the answer).
    deadline = time.monotonic() + 15
    while "audit.kind=session_revoked" not in stored_demo.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    output = stored_demo.output()
    events = [line for line in output.splitlines() if "Security event" in line]
    assert sum(bool(re.search(r"audit\.kind=sign_in\b", line)) for line in events) >= 2, events
    # "Sign out that device" ran in the demo's own route, behind SesameAuditMiddleware: its event names this browser.
    assert any("audit.kind=session_revoked" in line and "audit.client=127.0.0.1" in line and "HeadlessChrome" in line
               for line in events), events
    assert any("audit.client=127.0.0.1" in line for line in events), events
    for token in (re.search(r"token=([^&]+)", link).group(1), re.search(r"token=([^&]+)", other_link).group(1)):
        assert token not in "\n".join(events)
