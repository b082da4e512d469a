"""Real-browser tests of Sesame's built-in pages (sign-in, verify-request, sign-out, error) in headless Chromium.

Every test runs against both demos, the same pages and flows on Hummingbird and on Vapor. They are not built
here: `scripts/browser-test` builds them, and the `demo` fixture starts the binary named by SESAME_DEMO_BINARY
(default .build/debug/sesame-demo) or SESAME_DEMO_VAPOR_BINARY (default .build/debug/sesame-demo-vapor).
Screenshots of the pages (from the Hummingbird demo) go to docs/screenshots/.
"""

import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import add_authenticator, free_port

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"


# MARK: Helpers


def wait(driver, timeout=15):
    return WebDriverWait(driver, timeout)


def path_of(url):
    return urllib.parse.urlsplit(url).path


def wait_for_path(driver, path):
    """Waits until the browser is on `path`; the failure names where it is instead and what it shows."""
    try:
        wait(driver).until(lambda d: path_of(d.current_url) == path)
    except TimeoutException:
        raise AssertionError(
            f"expected {path}, the browser is on {driver.current_url}: {driver.find_element(By.TAG_NAME, 'body').text!r}") from None


def sign_in(driver, demo, email):
    """Signs in through the built-in pages: the sign-in form, verify-request, the link from the demo's log.
    Returns the link."""
    seen = len(demo.links_for(email))
    driver.get(demo.url("/auth/signin?callbackUrl=%2Fprotected"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Sign in"
    label = driver.find_element(By.XPATH, "//label[normalize-space()='Email address']")
    field = driver.find_element(By.ID, label.get_attribute("for"))
    assert field.get_attribute("type") == "email"
    field.send_keys(email)
    field.find_element(By.XPATH, "ancestor::form//button[@type='submit']").click()
    wait_for_path(driver, "/auth/verify-request")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Check your email"
    link = demo.wait_for_link(email, after=seen)
    assert link.startswith(demo.base_url + "/"), link
    driver.get(link)
    wait_for_path(driver, "/protected")
    return link


def session_json(driver, demo):
    """`/auth/session` as the browser (with its cookies) sees it."""
    driver.get(demo.url("/auth/session"))
    return json.loads(driver.find_element(By.TAG_NAME, "body").text)


# Colours and contrast (WCAG 2.x relative luminance), from getComputedStyle.

RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def parse_color(text):
    match = RGB.fullmatch(text.strip())
    assert match, f"unexpected computed colour {text!r}"
    r, g, b = (float(match.group(i)) for i in (1, 2, 3))
    alpha = match.group(4)
    a = 1.0 if alpha is None else (float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha))
    return (r, g, b, a)


def over(top, bottom):
    """`top` composited over the opaque `bottom`."""
    a = top[3]
    return tuple(top[i] * a + bottom[i] * (1 - a) for i in range(3)) + (1.0,)


def brightness(color, factor):
    """CSS `filter: brightness(factor)` on an sRGB colour (a linear multiplier on each component, clamped)."""
    return tuple(min(255.0, c * factor) for c in color[:3]) + (color[3],)


def luminance(color):
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first, second):
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


STYLES_JS = """
const element = arguments[0];
const layers = [];
let filter = 'none';
for (let node = element; node; node = node.parentElement) {
    const style = getComputedStyle(node);
    layers.push(style.backgroundColor);
    if (style.filter !== 'none') filter = filter === 'none' ? style.filter : filter + ' ' + style.filter;
}
return {color: getComputedStyle(element).color, layers: layers, filter: filter,
        canvas: getComputedStyle(document.documentElement).backgroundColor};
"""


def effective_colors(driver, element):
    """The text colour and the opaque background behind it, with `filter: brightness()` applied to both."""
    styles = driver.execute_script(STYLES_JS, element)
    background = (255.0, 255.0, 255.0, 1.0) if driver.scheme == "light" else (18.0, 18.0, 18.0, 1.0)
    for layer in reversed(styles["layers"]):  # from the root down to the element
        background = over(parse_color(layer), background)
    text = over(parse_color(styles["color"]), background)
    for factor in re.findall(r"brightness\(([\d.]+)\)", styles["filter"]):
        text, background = brightness(text, float(factor)), brightness(background, float(factor))
    rest = re.sub(r"brightness\([\d.]+\)", "", styles["filter"]).replace("none", "").strip()
    assert not rest, f"unhandled filter {styles['filter']}"
    return text, background


def save_screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{driver.scheme}.png"
    assert driver.save_screenshot(str(path)), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# MARK: (a)–(c) Signing in and out through the built-in pages


def test_sign_in_by_magic_link(browser, demo):
    email = f"ada-{browser.scheme}@example.com"
    link = sign_in(browser, demo, email)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Protected"
    assert email in browser.find_element(By.TAG_NAME, "body").text

    # A link works once: opened again without this browser's cookies, it asks for confirmation, and confirming
    # ends on the error page, signed out.
    browser.delete_all_cookies()
    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Confirm sign-in"
    browser.find_element(By.XPATH, "//form//button[@type='submit']").click()
    wait_for_path(browser, "/auth/error")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign-in error"
    assert session_json(browser, demo) is None


def test_a_link_opened_in_another_browser_asks_first(browser, demo):
    """The link is bound to the browser that asked for it. Opened elsewhere (here: the same browser without its
    cookies, as another browser or a mail scanner would be), it shows who is signing in and signs in only when the
    person confirms: the page's real form post, with the Origin a browser sends from it, completes the sign-in."""
    email = f"hedy-{browser.scheme}@example.com"
    seen = len(demo.links_for(email))
    browser.get(demo.url("/auth/signin?callbackUrl=%2Fprotected"))
    label = browser.find_element(By.XPATH, "//label[normalize-space()='Email address']")
    field = browser.find_element(By.ID, label.get_attribute("for"))
    field.send_keys(email)
    field.find_element(By.XPATH, "ancestor::form//button[@type='submit']").click()
    wait_for_path(browser, "/auth/verify-request")
    link = demo.wait_for_link(email, after=seen)

    browser.delete_all_cookies()
    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Confirm sign-in"
    assert email in browser.find_element(By.TAG_NAME, "body").text
    assert session_json(browser, demo) is None  # nothing was redeemed by opening it
    browser.get(link)
    browser.find_element(By.XPATH, "//form//button[@type='submit']").click()
    wait_for_path(browser, "/protected")
    assert email in browser.find_element(By.TAG_NAME, "body").text
    assert session_json(browser, demo)["user"]["email"] == email


def test_session_shows_the_signed_in_user(browser, demo):
    assert session_json(browser, demo) is None
    email = f"grace-{browser.scheme}@example.com"
    sign_in(browser, demo, email)
    session = session_json(browser, demo)
    assert session["user"]["email"] == email
    assert session["user"]["name"] == email.split("@")[0]
    assert session["expires"]


def test_sign_out_through_the_built_in_page(browser, demo):
    email = f"alan-{browser.scheme}@example.com"
    sign_in(browser, demo, email)
    assert session_json(browser, demo)["user"]["email"] == email

    browser.get(demo.url("/auth/signout?callbackUrl=%2F"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign out"
    button = browser.find_element(By.XPATH, "//form//button[@type='submit']")
    assert button.text == "Sign out"
    button.click()
    wait_for_path(browser, "/")
    assert "Not signed in" in browser.find_element(By.TAG_NAME, "body").text

    assert session_json(browser, demo) is None
    browser.get(demo.url("/protected"))
    wait_for_path(browser, "/")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)
    assert query.get("redirect") == ["/protected"]
    assert browser.find_element(By.ID, "email").get_attribute("type") == "email"  # the demo's sign-in form
    assert email not in browser.find_element(By.TAG_NAME, "body").text


# MARK: (d) Accessibility basics, and the screenshots

PAGES = {
    "signin": "/auth/signin?callbackUrl=%2Fprotected",
    "verify-request": "/auth/verify-request",
    "signout": "/auth/signout?callbackUrl=%2F",
    "error": "/auth/error?error=AccessDenied",
    "signup": "/auth/password/signup",
    "verify-email": "/auth/password/verify?email=ada%40example.com",
    "forgot-password": "/auth/password/forgot",
}
HEADINGS = {
    "signin": "Sign in", "verify-request": "Check your email", "signout": "Sign out", "error": "Sign-in error",
    "signup": "Create an account", "verify-email": "Verify your email", "forgot-password": "Forgot your password?",
}
FORM_PAGES = ("signin", "signout", "signup", "verify-email", "forgot-password")


def focusable(driver):
    """The visible links, inputs and buttons, in document order."""
    return [e for e in driver.find_elements(By.CSS_SELECTOR, "a[href], input:not([type=hidden]), button, select, textarea") if e.is_displayed()]


@pytest.mark.parametrize("page", list(PAGES))
def test_page_accessibility_basics(browser, demo, page):
    browser.get(demo.url(PAGES[page]))
    wait(browser).until(EC.presence_of_element_located((By.TAG_NAME, "main")))

    # The emulated colour scheme is in effect, and the page follows it.
    assert browser.execute_script(f"return matchMedia('(prefers-color-scheme: {browser.scheme})').matches")
    canvas = effective_colors(browser, browser.find_element(By.TAG_NAME, "body"))[1]
    assert (luminance(canvas) > 0.8) if browser.scheme == "light" else (luminance(canvas) < 0.05), canvas

    # Exactly one h1, with the page's heading.
    headings = browser.find_elements(By.TAG_NAME, "h1")
    assert [h.text for h in headings] == [HEADINGS[page]]
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"

    # Every input a person fills in has a visible <label for> naming it.
    inputs = browser.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea")
    for field in inputs:
        field_id = field.get_attribute("id")
        assert field_id, field.get_attribute("outerHTML")
        labels = browser.find_elements(By.CSS_SELECTOR, f"label[for='{field_id}']")
        assert len(labels) == 1 and labels[0].is_displayed() and labels[0].text.strip(), field.get_attribute("outerHTML")
    if page == "signin":
        # The magic-link form, then the password form.
        assert [f.get_attribute("type") for f in inputs] == ["email", "email", "password"]

    # Keyboard: Tab moves through the inputs, buttons and links in document order (email field, then its button).
    order = focusable(browser)
    if page == "signin":
        assert [e.tag_name for e in order[:2]] == ["input", "button"]
    if page == "signout":
        assert [e.tag_name for e in order] == ["button"]
    assert order, "nothing on the page can be reached by keyboard"
    # Focus starts at the document after loading.
    for expected in order:
        ActionChains(browser).send_keys(Keys.TAB).perform()
        assert browser.switch_to.active_element == expected, (
            f"Tab focused {browser.switch_to.active_element.get_attribute('outerHTML')}, "
            f"expected {expected.get_attribute('outerHTML')}")
        if expected.tag_name == "button":
            # The focus is visible: an outline at least 2px wide.
            outline = browser.execute_script("const s = getComputedStyle(arguments[0]); return [s.outlineStyle, parseFloat(s.outlineWidth)]", expected)
            assert outline[0] != "none" and outline[1] >= 2, outline

    # Contrast: button text on its background, and the text and links, at least 4.5:1 (WCAG AA).
    buttons = browser.find_elements(By.TAG_NAME, "button")
    assert bool(buttons) == (page in FORM_PAGES)
    for element in buttons + browser.find_elements(By.CSS_SELECTOR, "main p, main a, main label, main h1"):
        text, background = effective_colors(browser, element)
        ratio = contrast(text, background)
        assert ratio >= 4.5, f"{element.tag_name} {element.text!r}: {ratio:.2f}:1 ({text} on {background}, {browser.scheme})"

    browser.execute_script("document.activeElement.blur()")
    if demo.framework == "hummingbird":
        save_screenshot(browser, page)


# MARK: (e) The pages' Content-Security-Policy


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_send_a_strict_content_security_policy(demo, page):
    with urllib.request.urlopen(demo.url(PAGES[page]), timeout=10) as response:
        assert response.status == 200
        assert response.headers.get_content_type() == "text/html"
        csp = response.headers["Content-Security-Policy"]
        body = response.read().decode()
    assert csp, "no Content-Security-Policy"
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"], csp
    assert directives["frame-ancestors"] == ["'none'"], csp
    scripts = re.findall(r"<script\b[^>]*>", body, re.IGNORECASE)
    if page == "signin":
        # The passkey button's script: that one file, nothing inline, nothing evaluated.
        assert directives["script-src"] == [demo.url("/auth/passkey.js")] and directives["connect-src"] == ["'self'"], csp
        assert scripts == [f'<script src="{demo.url("/auth/passkey.js")}" defer>'], scripts
        assert "<script>" not in body.lower()
    else:
        assert "script-src" not in directives, csp
        assert not scripts, scripts


# MARK: (f) Passwords: sign-up, verification, sign-in, reset


def wait_for_url(driver, fragment):
    """Waits until the URL contains `fragment`; the failure names where the browser is and what it shows."""
    try:
        wait(driver).until(lambda d: fragment in d.current_url)
    except TimeoutException:
        raise AssertionError(
            f"expected {fragment!r} in the URL, the browser is on {driver.current_url}: {driver.find_element(By.TAG_NAME, 'body').text!r}") from None


def wait_for_text(driver, text):
    """Waits until the page shows `text` (the body may be replaced by a navigation meanwhile)."""
    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
        lambda d: text in d.find_element(By.TAG_NAME, "body").text)


def click_and_wait_for_the_next_page(driver, element):
    """Clicks (a form's button) and waits until the page it was on is gone, so that what is read next is the new one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def gone(_):
        # Asking about a node of a page being replaced can fail in other ways than "stale" ("does not belong to the
        # document"): each means the old page is going.
        try:
            page.is_enabled()
            return False
        except WebDriverException:
            return True

    wait(driver).until(gone)


def check_basic_accessibility(driver, heading):
    """What every page must have, for pages that need state to reach: one h1 with its heading, a visible label for
    each input, a visible focus outline on buttons, and 4.5:1 contrast for text, links, labels and buttons."""
    assert [h.text for h in driver.find_elements(By.TAG_NAME, "h1")] == [heading]
    for field in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
        field_id = field.get_attribute("id")
        labels = driver.find_elements(By.CSS_SELECTOR, f"label[for='{field_id}']") if field_id else []
        assert len(labels) == 1 and labels[0].is_displayed() and labels[0].text.strip(), field.get_attribute("outerHTML")
    for button in driver.find_elements(By.TAG_NAME, "button"):
        driver.execute_script("arguments[0].focus()", button)
        outline = driver.execute_script("const s = getComputedStyle(arguments[0]); return [s.outlineStyle, parseFloat(s.outlineWidth)]", button)
        assert outline[0] != "none" and outline[1] >= 2, (button.text, outline)
    driver.execute_script("document.activeElement.blur()")
    for element in driver.find_elements(By.CSS_SELECTOR, "main p, main a, main label, main h1, main h2, main li, button"):
        if not element.text.strip():
            continue
        text, background = effective_colors(driver, element)
        ratio = contrast(text, background)
        assert ratio >= 4.5, f"{element.tag_name} {element.text!r}: {ratio:.2f}:1 ({text} on {background}, {driver.scheme})"


def sign_out_on_the_home_page(driver):
    """Presses the demo home page's sign-out button and waits for the signed-out home page."""
    click_and_wait_for_the_next_page(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/signout'] button"))
    wait_for_text(driver, "Not signed in")


def outbox_link(driver, demo, email, kind):
    """The newest `kind` (`verify` or `reset`) link on the demo's development outbox page for `email`."""
    driver.get(demo.url("/dev/outbox?to=" + urllib.parse.quote(email)))
    links = driver.find_elements(By.CSS_SELECTOR, f"#messages a[id^='{kind}-']")
    assert links, f"no {kind} message for {email}: {driver.find_element(By.TAG_NAME, 'body').text!r}"
    return links[-1].get_attribute("href")


def outbox_code(driver, demo, email):
    driver.get(demo.url("/dev/outbox?to=" + urllib.parse.quote(email)))
    codes = driver.find_elements(By.CSS_SELECTOR, "#messages code[id^='code-']")
    assert codes, driver.find_element(By.TAG_NAME, "body").text
    return codes[-1].text


def fill(driver, label, value):
    """Types into the field a visible label names."""
    field = driver.find_element(By.ID, driver.find_element(By.XPATH, f"//label[normalize-space()='{label}']").get_attribute("for"))
    field.clear()
    field.send_keys(value)
    return field


def password_sign_in(driver, demo, email, password):
    driver.get(demo.url("/auth/signin"))
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/auth/callback/password']")
    form.find_element(By.CSS_SELECTOR, "input[type=email]").send_keys(email)
    form.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def sign_up_verify_and_sign_in(driver, demo, email, password):
    """A password account through the built-in pages: sign-up, the verification link from the outbox, sign-in."""
    driver.get(demo.url("/auth/password/signup"))
    fill(driver, "Email address", email)
    fill(driver, "Password", password).submit()
    wait_for_path(driver, "/auth/password/verify")
    driver.get(outbox_link(driver, demo, email, "verify"))
    wait_for_url(driver, "verified=1")
    password_sign_in(driver, demo, email, password)
    wait_for_path(driver, "/")


def the_password_alone_reaches_the_two_step_page(driver, demo, email, password):
    """Signs in with the password of a user with a second factor: no session, the two-step page (checked)."""
    password_sign_in(driver, demo, email, password)
    wait_for_path(driver, "/auth/password/two-factor")
    assert session_json(driver, demo) is None
    driver.back()
    wait_for_path(driver, "/auth/password/two-factor")
    check_basic_accessibility(driver, "Two-step verification")


def test_password_sign_up_verify_sign_in_and_reset(browser, demo):
    # An address no other test signs in with (a magic-link user has no password, and sign-up would only tell them).
    email = f"password-user-{browser.scheme}@example.com"
    password = "a long and unusual passphrase"
    browser.get(demo.url("/"))
    browser.find_element(By.ID, "signup").click()
    wait_for_path(browser, "/auth/password/signup")
    fill(browser, "Email address", email)
    fill(browser, "Password", "password1").submit()
    # A common password comes back to the form with the reason.
    wait_for_url(browser, "error=weak_password")
    assert "too short, too long or too common" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    fill(browser, "Email address", email)
    fill(browser, "Password", password).submit()
    wait_for_path(browser, "/auth/password/verify")
    if demo.framework == "hummingbird":
        save_screenshot(browser, "verify-email-code")

    # Unverified, the right password is refused with a reason.
    password_sign_in(browser, demo, email, password)
    wait_for_url(browser, "error=email_not_verified")

    browser.get(outbox_link(browser, demo, email, "verify"))
    wait_for_url(browser, "verified=1")
    assert "Your email address is verified" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text

    password_sign_in(browser, demo, email, "not my password at all")
    wait_for_url(browser, "error=invalid_credentials")
    password_sign_in(browser, demo, email, password)
    wait_for_path(browser, "/")
    assert f"Signed in as {email}" in browser.find_element(By.TAG_NAME, "body").text
    sign_out_on_the_home_page(browser)

    # Forgot: the link leads to the new-password form; the new password works, the old one does not.
    browser.get(demo.url("/auth/password/forgot"))
    fill(browser, "Email address", email).submit()
    wait_for_url(browser, "sent=1")
    browser.get(outbox_link(browser, demo, email, "reset"))
    wait_for_path(browser, "/auth/password/reset")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Choose a new password"
    if demo.framework == "hummingbird":
        save_screenshot(browser, "reset-password")
    fill(browser, "New password", password + " renewed").submit()
    wait_for_url(browser, "reset=1")
    password_sign_in(browser, demo, email, password)
    wait_for_url(browser, "error=invalid_credentials")
    password_sign_in(browser, demo, email, password + " renewed")
    wait_for_path(browser, "/")
    assert f"Signed in as {email}" in browser.find_element(By.TAG_NAME, "body").text

    # Changing it on the security page needs the current one.
    browser.get(demo.url("/account"))
    browser.find_element(By.ID, "security").click()
    wait_for_path(browser, "/account/security")
    check_basic_accessibility(browser, "Security")
    if demo.framework == "hummingbird":
        save_screenshot(browser, "account-security")
    fill(browser, "Current password", "a wrong guess here")
    fill(browser, "New password", "the third passphrase here").submit()
    wait_for_text(browser, "not correct")
    fill(browser, "Current password", password + " renewed")
    fill(browser, "New password", "the third passphrase here").submit()
    # (Signing in with it would be this address's sixth sign-in within the minute: the per-address limit, 5 and
    # then one a minute, counts every attempt. The Swift tests sign in after a change.)
    wait_for_text(browser, "Your password was saved.")


def test_email_verification_by_code(browser, demo):
    email = f"code-user-{browser.scheme}@example.com"
    browser.get(demo.url("/auth/password/signup"))
    fill(browser, "Email address", email)
    fill(browser, "Password", "another long passphrase").submit()
    wait_for_path(browser, "/auth/password/verify")
    code = outbox_code(browser, demo, email)
    browser.get(demo.url("/auth/password/verify?email=" + urllib.parse.quote(email)))
    fill(browser, "Code", "00000000").submit()
    wait_for_url(browser, "error=invalid_verification")
    fill(browser, "Code", code[:4] + " " + code[4:]).submit()
    wait_for_url(browser, "verified=1")
    password_sign_in(browser, demo, email, "another long passphrase")
    wait_for_path(browser, "/")
    assert f"Signed in as {email}" in browser.find_element(By.TAG_NAME, "body").text


def test_two_step_verification_with_an_authenticator_app_and_a_recovery_code(browser, demo):
    """Sign-up, verification, sign-in, enrolment with a code pyotp computes from the page's secret, then sign-ins
    that ask for the second factor: a code from the app, then a recovery code."""
    import pyotp

    email = f"totp-user-{browser.scheme}@example.com"
    password = "an authenticator protects this one"
    sign_up_verify_and_sign_in(browser, demo, email, password)

    browser.get(demo.url("/account/security"))
    assert "Off" in browser.find_element(By.ID, "two-factor-summary").text
    browser.find_element(By.ID, "two-factor").click()
    wait_for_path(browser, "/account/two-factor")
    check_basic_accessibility(browser, "Set up two-step verification")
    assert browser.find_element(By.CSS_SELECTOR, "figure.qr svg").is_displayed()
    # The setup link is the otpauth:// URI the QR code holds, with the same secret.
    uri = browser.find_element(By.ID, "totp-uri").get_attribute("href")
    assert uri.startswith("otpauth://totp/Sesame%20demo:") and "secret=" + browser.find_element(By.ID, "totp-secret").text.replace(" ", "") in uri, uri
    if demo.framework == "hummingbird":
        save_screenshot(browser, "two-factor-setup")
    totp = pyotp.TOTP(browser.find_element(By.ID, "totp-secret").text.replace(" ", ""))
    fill(browser, "Code from the app", "000000" if totp.now() != "000000" else "111111").submit()
    wait_for_text(browser, "not correct")
    # The page drew a new secret: read it again.
    totp = pyotp.TOTP(browser.find_element(By.ID, "totp-secret").text.replace(" ", ""))
    fill(browser, "Code from the app", totp.now()).submit()
    wait(browser).until(EC.presence_of_element_located((By.ID, "recovery-codes")))
    recovery = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes code")]
    assert len(recovery) == 10 and all(len(code) == 19 for code in recovery), recovery
    check_basic_accessibility(browser, "Your recovery codes")
    if demo.framework == "hummingbird":
        save_screenshot(browser, "recovery-codes")
    browser.get(demo.url("/"))
    sign_out_on_the_home_page(browser)

    # The password alone: no session, the code page.
    the_password_alone_reaches_the_two_step_page(browser, demo, email, password)
    if demo.framework == "hummingbird":
        save_screenshot(browser, "two-factor-challenge")
    fill(browser, "Code", "000000" if totp.now() != "000000" else "111111").submit()
    wait_for_url(browser, "error=invalid_code")
    # The next step's code: the enrolling code's step is used, and ±1 step is accepted.
    fill(browser, "Code", totp.at(time.time() + 30)).submit()
    wait_for_path(browser, "/")
    assert f"Signed in as {email}" in browser.find_element(By.TAG_NAME, "body").text
    sign_out_on_the_home_page(browser)

    # A recovery code instead, once.
    password_sign_in(browser, demo, email, password)
    wait_for_path(browser, "/auth/password/two-factor")
    fill(browser, "Code", recovery[0]).submit()
    wait_for_path(browser, "/")
    assert f"Signed in as {email}" in browser.find_element(By.TAG_NAME, "body").text
    browser.get(demo.url("/account/two-factor"))
    assert "9 recovery codes left" in browser.find_element(By.ID, "two-factor-status").text
    browser.get(demo.url("/"))
    sign_out_on_the_home_page(browser)
    password_sign_in(browser, demo, email, password)
    wait_for_path(browser, "/auth/password/two-factor")
    fill(browser, "Code", recovery[0]).submit()
    wait_for_url(browser, "error=invalid_code")


# MARK: Passkeys (a virtual authenticator through the DevTools WebAuthn domain)


def credentials(driver):
    return driver.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": driver.authenticator})["credentials"]


def without_autofill(driver):
    """Makes the next pages report conditional mediation (passkey autofill) unavailable, so that only a button
    starts a ceremony."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;"})


def passkey_error(driver):
    """The code of the refusal the passkey script shows."""
    element = wait(driver).until(EC.visibility_of_element_located((By.ID, "passkey-error")))
    return element.get_attribute("data-code"), element.text


def passkey_sign_up(driver, demo, email):
    """Passkey-first sign-up on the built-in pages: the address, the emailed code (from the outbox), the passkey."""
    driver.get(demo.url("/auth/passkey/signup"))
    check_basic_accessibility(driver, "Create an account with a passkey")
    fill(driver, "Email address", email).submit()
    wait_for_url(driver, "sent=1")
    signup = driver.current_url
    driver.get(demo.url("/dev/outbox?to=" + urllib.parse.quote(email)))
    codes = driver.find_elements(By.CSS_SELECTOR, "#messages code[id^='passkey-code-']")
    assert codes, driver.find_element(By.TAG_NAME, "body").text
    code = codes[-1].text
    driver.get(signup)
    check_basic_accessibility(driver, "Create an account with a passkey")
    fill(driver, "Code", code)
    click_and_wait_for_the_next_page(driver, driver.find_element(By.CSS_SELECTOR, "#passkey-signup button[type=submit]"))
    wait_for_text(driver, f"Signed in as {email}")


def test_passkey_sign_up_sign_out_and_sign_in_with_the_button(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-button-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    stored = credentials(driver)
    assert len(stored) == 1 and stored[0]["isResidentCredential"], stored
    sign_out_on_the_home_page(driver)
    without_autofill(driver)
    driver.get(demo.url("/auth/signin"))
    if demo.framework == "hummingbird":
        save_screenshot(driver, "sign-in-with-passkey")
    click_and_wait_for_the_next_page(driver, driver.find_element(By.ID, "passkey-signin"))
    wait_for_text(driver, f"Signed in as {email}")
    assert session_json(driver, demo)["user"]["email"] == email


def test_passkey_autofill_signs_in_from_the_sign_in_page(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-autofill-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    sign_out_on_the_home_page(driver)
    # The page asks for the site's passkeys with conditional mediation as it loads; the virtual authenticator
    # answers as a person picking the passkey from the address field's suggestions would.
    driver.get(demo.url("/auth/signin"))
    wait_for_text(driver, f"Signed in as {email}")


def test_a_passkey_as_the_second_factor_then_removed(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-2fa-{demo.framework}@example.com"
    password = "a password and then a passkey"
    without_autofill(driver)
    sign_up_verify_and_sign_in(driver, demo, email, password)

    # Add a passkey on the security page (a recent sign-in).
    driver.get(demo.url("/account/security"))
    check_basic_accessibility(driver, "Security")
    fill(driver, "Name for the new passkey (optional)", "Test laptop")
    driver.find_element(By.ID, "add-passkey").click()
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#passkeys li.passkey")) == 1)
    assert driver.find_element(By.CSS_SELECTOR, ".passkey-name").text == "Test laptop"
    if demo.framework == "hummingbird":
        save_screenshot(driver, "account-passkeys")
    driver.get(demo.url("/"))
    sign_out_on_the_home_page(driver)

    # The password alone no longer signs in: the two-step page asks for the passkey.
    the_password_alone_reaches_the_two_step_page(driver, demo, email, password)
    click_and_wait_for_the_next_page(driver, driver.find_element(By.ID, "passkey-second-factor"))
    wait_for_text(driver, f"Signed in as {email}")

    # Rename it, then remove it (the password remains a way in).
    driver.get(demo.url("/account/security"))
    fill(driver, "New name", "Old laptop").submit()
    wait_for_text(driver, "The passkey was renamed.")
    assert driver.find_element(By.CSS_SELECTOR, ".passkey-name").text == "Old laptop"
    click_and_wait_for_the_next_page(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/delete'] button"))
    wait_for_text(driver, "The passkey was removed.")
    assert not driver.find_elements(By.CSS_SELECTOR, "#passkeys li.passkey")
    driver.get(demo.url("/"))
    sign_out_on_the_home_page(driver)
    password_sign_in(driver, demo, email, password)
    wait_for_path(driver, "/")
    assert f"Signed in as {email}" in driver.find_element(By.TAG_NAME, "body").text


def test_the_last_passkey_cannot_be_removed(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-last-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    driver.get(demo.url("/account/security"))
    click_and_wait_for_the_next_page(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/delete'] button"))
    wait_for_text(driver, "last way to sign in")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#passkeys li.passkey")) == 1


def cdp_cookies(driver, demo):
    """Every cookie the browser holds for the demo, HttpOnly ones included, as a Cookie header."""
    cookies = driver.execute_cdp_cmd("Network.getCookies", {"urls": [demo.url("/")]})["cookies"]
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)


def post_json(demo, path, body, cookie, origin=None):
    """POSTs JSON to the demo as a script of its own origin would; answers (status, JSON)."""
    request = urllib.request.Request(demo.url(path), data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json", "Cookie": cookie, "Origin": origin or demo.base_url,
        "X-Auth-Return-Redirect": "1"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


CEREMONY = """
const [options, done] = [arguments[0], arguments[arguments.length - 1]];
const bytes = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)), (c) => c.charCodeAt(0));
const text = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const publicKey = {...options, challenge: bytes(options.challenge), allowCredentials: (options.allowCredentials || []).map((c) => ({...c, id: bytes(c.id)}))};
navigator.credentials.get({publicKey}).then((c) => done({id: c.id, rawId: text(c.rawId), type: c.type, clientExtensionResults: {},
  response: {clientDataJSON: text(c.response.clientDataJSON), authenticatorData: text(c.response.authenticatorData),
             signature: text(c.response.signature), userHandle: c.response.userHandle ? text(c.response.userHandle) : null}}),
  (e) => done({error: e.name + ": " + e.message}));
"""


def browser_assertion(driver, demo, page_url=None, tweak=None):
    """Asks the demo for sign-in options (keeping its challenge cookie), runs `navigator.credentials.get` in the
    browser on `page_url` (default the demo's sign-in page), and returns (credential JSON, the demo's cookies)."""
    driver.get(demo.url("/auth/csrf"))
    csrf = json.loads(driver.find_element(By.TAG_NAME, "body").text)["csrfToken"]
    driver.get(demo.url("/auth/webauthn-options/passkey"))
    options = json.loads(driver.find_element(By.TAG_NAME, "body").text)["options"]
    cookie = cdp_cookies(driver, demo)
    if tweak:
        tweak(options)
    driver.get(page_url or demo.url("/auth/error"))
    driver.set_script_timeout(30)
    credential = driver.execute_async_script(CEREMONY, options)
    assert "error" not in credential, credential
    return credential, cookie, csrf


def test_a_replayed_assertion_is_refused(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-replay-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    sign_out_on_the_home_page(driver)
    credential, cookie, csrf = browser_assertion(driver, demo)
    body = {"csrfToken": csrf, "action": "authenticate", "data": credential}
    status, answer = post_json(demo, "/auth/callback/passkey", body, cookie)
    assert status == 200 and answer["url"], (status, answer)
    # The same bytes with the same cookies, again: the challenge was spent.
    status, answer = post_json(demo, "/auth/callback/passkey", body, cookie)
    assert (status, answer["error"]) == (400, "passkey_challenge_expired"), (status, answer)


def test_an_assertion_made_on_another_origin_is_refused(passkey_browser, demo):
    """A page on another port of localhost (same RP ID, another origin) gets the browser to sign the demo's
    challenge; the demo refuses the answer."""
    import http.server

    driver = passkey_browser
    email = f"passkey-origin-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    sign_out_on_the_home_page(driver)

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>elsewhere</title><p>another site</p>")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        other = f"http://localhost:{server.server_address[1]}/"
        credential, cookie, csrf = browser_assertion(driver, demo, page_url=other)
        client_data = json.loads(base64url_decode(credential["response"]["clientDataJSON"]))
        assert client_data["origin"] == other.rstrip("/"), client_data
        status, answer = post_json(demo, "/auth/callback/passkey", {"csrfToken": csrf, "action": "authenticate", "data": credential}, cookie)
        assert (status, answer["error"]) == (403, "passkey_origin_not_allowed"), (status, answer)
    finally:
        server.shutdown()


def base64url_decode(text):
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_an_assertion_without_user_verification_is_refused(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-uv-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    sign_out_on_the_home_page(driver)
    # The authenticator now verifies nobody, and the page asks it not to (the demo still requires it).
    driver.execute_cdp_cmd("WebAuthn.setUserVerified", {"authenticatorId": driver.authenticator, "isUserVerified": False})
    credential, cookie, csrf = browser_assertion(driver, demo, tweak=lambda options: options.update(userVerification="discouraged"))
    flags = base64url_decode(credential["response"]["authenticatorData"])[32]
    assert flags & 0x04 == 0, flags
    status, answer = post_json(demo, "/auth/callback/passkey", {"csrfToken": csrf, "action": "authenticate", "data": credential}, cookie)
    assert (status, answer["error"]) == (401, "passkey_user_not_verified"), (status, answer)


def test_a_cloned_authenticator_is_flagged_and_refused(passkey_browser, demo):
    driver = passkey_browser
    email = f"passkey-clone-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    sign_out_on_the_home_page(driver)
    without_autofill(driver)
    # Two sign-ins move the counter on.
    for _ in range(2):
        driver.get(demo.url("/auth/signin"))
        click_and_wait_for_the_next_page(driver, driver.find_element(By.ID, "passkey-signin"))
        wait_for_text(driver, f"Signed in as {email}")
        sign_out_on_the_home_page(driver)
    original = credentials(driver)[0]
    assert original["signCount"] >= 2, original
    # A copy of the key whose counter starts again from 1.
    driver.execute_cdp_cmd("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": driver.authenticator})
    driver.authenticator = add_authenticator(driver)
    clone = {key: original[key] for key in ["credentialId", "isResidentCredential", "rpId", "privateKey", "userHandle"]}
    clone["signCount"] = 0
    driver.execute_cdp_cmd("WebAuthn.addCredential", {"authenticatorId": driver.authenticator, "credential": clone})
    driver.get(demo.url("/auth/signin"))
    driver.find_element(By.ID, "passkey-signin").click()
    code, message = passkey_error(driver)
    assert code == "passkey_counter_regression", (code, message)
    assert session_json(driver, demo) is None


RECORDER = """
// Records each WebAuthn ceremony's options and the browser's answer in sessionStorage (kept across the
// navigation that follows a successful ceremony).
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) return;
  const text = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const plain = (value) => value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? text(value.buffer ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value)
    : Array.isArray(value) ? value.map(plain) : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) : value;
  const record = (kind, options, credential) => {
    const all = JSON.parse(sessionStorage.getItem("webauthn-recordings") || "[]");
    all.push({kind, options: plain(options), credential: credential.toJSON()});
    sessionStorage.setItem("webauthn-recordings", JSON.stringify(all));
  };
  for (const kind of ["create", "get"]) {
    const original = navigator.credentials[kind].bind(navigator.credentials);
    navigator.credentials[kind] = async (request) => {
      const credential = await original(request);
      if (request && request.publicKey && request.mediation !== "conditional") record(kind, request.publicKey, credential);
      return credential;
    };
  }
})();
"""


def test_chromiums_answers_to_sesames_options_verify_with_py_webauthn(passkey_browser, demo):
    """Cross-check with an independent implementation: the options Sesame issued parse with py_webauthn, and the
    registration and assertion Chromium produced for them verify with py_webauthn against the same challenge,
    origin and RP ID. With SESAME_RECORD_WEBAUTHN=PATH the recordings are written there (the committed fixture
    Tests/SesameTests/Fixtures/webauthn/chromium-virtual-authenticator.json came from this)."""
    import webauthn
    from webauthn.helpers import parse_authentication_options_json, parse_registration_options_json

    driver = passkey_browser
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    without_autofill(driver)
    email = f"passkey-cross-check-{demo.framework}@example.com"
    passkey_sign_up(driver, demo, email)
    sign_out_on_the_home_page(driver)
    driver.get(demo.url("/auth/signin"))
    click_and_wait_for_the_next_page(driver, driver.find_element(By.ID, "passkey-signin"))
    wait_for_text(driver, f"Signed in as {email}")
    recordings = json.loads(driver.execute_script("return sessionStorage.getItem('webauthn-recordings')") or "[]")
    assert [r["kind"] for r in recordings] == ["create", "get"], recordings

    registration, assertion = recordings
    creation = parse_registration_options_json(registration["options"])
    assert creation.rp.id == "localhost" and creation.user.name == email
    verified = webauthn.verify_registration_response(
        credential=registration["credential"], expected_challenge=base64url_decode(registration["options"]["challenge"]),
        expected_rp_id="localhost", expected_origin=demo.base_url, require_user_verification=True)
    assert verified.credential_id == base64url_decode(registration["credential"]["rawId"])
    request = parse_authentication_options_json(assertion["options"])
    assert request.rp_id == "localhost"
    checked = webauthn.verify_authentication_response(
        credential=assertion["credential"], expected_challenge=base64url_decode(assertion["options"]["challenge"]),
        expected_rp_id="localhost", expected_origin=demo.base_url, credential_public_key=verified.credential_public_key,
        credential_current_sign_count=verified.sign_count, require_user_verification=True)
    assert checked.new_sign_count > verified.sign_count
    if os.environ.get("SESAME_RECORD_WEBAUTHN") and demo.framework == "hummingbird":
        Path(os.environ["SESAME_RECORD_WEBAUTHN"]).write_text(json.dumps(
            {"origin": demo.base_url, "rpId": "localhost", "registration": registration, "assertion": assertion}, indent=2) + "\n")
