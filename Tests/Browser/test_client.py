"""Real-browser tests of Sesame's browser client (`/auth/client.js`) in headless Chromium, against both demos.

The demo's `/client` page uses nothing but the module (its own module script, under a policy that allows this
origin's scripts and nothing inline). The tests press its buttons, and call the module's functions directly through
a dynamic `import()` on that page to check exactly what each answers.
"""

import json
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from selenium.webdriver.common.by import By

from test_pages import credentials, outbox_code, outbox_link, wait, wait_for_path


def call(driver, body, *args):
    """Runs `body` (the module is `client`, the arguments `args`) on the current page; answers what it returns."""
    driver.set_script_timeout(30)
    answer = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const args = Array.from(arguments).slice(0, -1);
        import("/auth/client.js")
          .then((client) => (async (client, args) => { %s })(client, args))
          .then((value) => done({ value: value === undefined ? null : value }), (error) => done({ error: String((error && error.stack) || error) }));
        """ % body,
        *args,
    )
    assert "error" not in answer, answer["error"]
    return answer["value"]


def open_client_page(driver, demo):
    driver.get(demo.url("/client"))
    wait_for_status(driver, ("authenticated", "unauthenticated"))


def wait_for_status(driver, statuses):
    """Waits until the page's session store shows one of `statuses`; answers it."""
    statuses = (statuses,) if isinstance(statuses, str) else statuses
    try:
        wait(driver).until(lambda d: d.find_element(By.ID, "status").text in statuses)
    except Exception:
        raise AssertionError(f"expected {statuses}, the page shows {driver.find_element(By.TAG_NAME, 'body').text!r}") from None
    return driver.find_element(By.ID, "status").text


def submit(driver, form_id, **fields):
    """Fills a form of the client page by field id and submits it; answers the result line's text and code."""
    result = driver.find_element(By.ID, "result")
    driver.execute_script("arguments[0].textContent = ''; arguments[0].dataset.error = ''", result)
    for field, value in fields.items():
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()
    wait(driver).until(lambda d: d.find_element(By.ID, "result").text)
    return result.text, result.get_attribute("data-error")


def password_account(driver, demo, email, password):
    """A verified password account made through the client page's forms (sign-up, the emailed code, verify)."""
    open_client_page(driver, demo)
    assert submit(driver, "signup-form", **{"signup-email": email, "signup-password": password}) == ("Done.", "")
    code = outbox_code(driver, demo, email)
    open_client_page(driver, demo)
    driver.find_element(By.ID, "signup-email").send_keys(email)
    assert submit(driver, "verify-form", **{"verify-code": code}) == ("Done.", "")


def password_sign_in(driver, demo, email, password):
    open_client_page(driver, demo)
    submit(driver, "password-form", **{"password-email": email, "password-password": password})
    wait_for_status(driver, "authenticated")
    assert driver.find_element(By.ID, "who").text == email


def fetch(driver, path, method="GET", body=None, headers=None):
    """The page's own fetch (its cookies, its origin): `{status, json}`."""
    return driver.execute_async_script(
        """
        const [path, method, body, headers, done] = arguments;
        fetch(path, { method, body, headers, credentials: "same-origin" })
          .then(async (r) => done({ status: r.status, json: await r.json().catch(() => null) }), (e) => done({ status: 0, json: String(e) }));
        """,
        path, method, body, headers or {},
    )


def session_requests(driver):
    return driver.execute_script(
        "return performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/auth/session').length")


# MARK: The module


def test_the_module_and_its_declarations_are_served(demo):
    with urllib.request.urlopen(demo.url("/auth/client.js")) as response:
        source = response.read().decode()
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
    with urllib.request.urlopen(demo.url("/auth/client.d.ts")) as response:
        declarations = response.read().decode()
        assert response.headers["Content-Type"].startswith("application/typescript")
    # Every export has its declaration, and nothing is declared that the module lacks.
    exported = set(re.findall(r"^export (?:async )?function (\w+)", source, re.M))
    declared = set(re.findall(r"^export function (\w+)", declarations, re.M))
    assert exported == declared
    assert {"getSession", "getCsrfToken", "getProviders", "signIn", "signOut", "update", "createSessionStore",
            "signInWithPasskey", "signUpWithPasskey", "passkeySecondFactor", "signUp", "verifyEmail",
            "verifySecondFactor", "requestPasswordReset", "resetPassword"} <= exported
    # A browser holding the current copy is told so without the body.
    request = urllib.request.Request(demo.url("/auth/client.js"), headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("expected 304 Not Modified")
    except urllib.error.HTTPError as error:
        assert error.code == 304
    # It is a resource to read, nothing to post to.
    try:
        urllib.request.urlopen(urllib.request.Request(demo.url("/auth/client.js"), data=b"", method="POST"))
        raise AssertionError("expected 405")
    except urllib.error.HTTPError as error:
        assert error.code == 405
        assert json.loads(error.read())["error"] == "method_not_allowed"


def test_the_declarations_type_check_a_page_script(demo):
    """The served client.d.ts compiles under tsc --strict with a script that calls every function, and a misuse
    fails to compile (so the check is live)."""
    tsc = shutil.which("tsc")
    assert tsc, "tsc is needed (apt-get install node-typescript; scripts/browser-test installs it)"
    with urllib.request.urlopen(demo.url("/auth/client.d.ts")) as response:
        declarations = response.read().decode()
    usage = (Path(__file__).parent / "client_usage.ts").read_text()
    options = ["--noEmit", "--strict", "--target", "es2020", "--module", "es2020", "--moduleResolution", "node", "--lib", "es2020,dom"]
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "client.d.ts").write_text(declarations)
        Path(directory, "app.ts").write_text(usage)
        Path(directory, "misuse.ts").write_text('import * as client from "./client";\nexport const n: number = client.getCsrfToken();\n')
        good = subprocess.run([tsc, *options, "app.ts"], cwd=directory, capture_output=True, text=True, timeout=120)
        assert good.returncode == 0, good.stdout + good.stderr
        bad = subprocess.run([tsc, *options, "misuse.ts"], cwd=directory, capture_output=True, text=True, timeout=120)
        assert bad.returncode != 0 and "not assignable" in bad.stdout, bad.stdout


def test_the_client_page_runs_under_a_strict_policy(passkey_browser, demo):
    driver = passkey_browser
    with urllib.request.urlopen(demo.url("/client")) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "<script type=\"module\" src=\"/client.js\"></script>" in urllib.request.urlopen(demo.url("/client")).read().decode()
    open_client_page(driver, demo)
    # The module ran: the store left "loading", and the providers came from getProviders().
    assert driver.find_element(By.ID, "status").text == "unauthenticated"
    assert "Password (credentials)" in driver.find_element(By.ID, "providers").text
    assert "Passkey (webauthn)" in driver.find_element(By.ID, "providers").text
    providers = call(driver, "return client.getProviders()")
    assert providers["password"]["type"] == "credentials" and providers["link"]["type"] == "email"
    assert providers["passkey"]["type"] == "webauthn"
    assert providers["password"]["signinUrl"] == demo.url("/auth/signin/password")
    assert call(driver, "return client.getSession()") is None
    # The CSRF token: the same one while its cookie lasts, also when asked for twice at once.
    tokens = call(driver, "return Promise.all([client.getCsrfToken(), client.getCsrfToken()])")
    assert tokens[0] and tokens[0] == tokens[1] == call(driver, "return client.getCsrfToken()")


# MARK: Passwords, links and errors


def test_password_sign_up_verification_sign_in_update_and_sign_out(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-password-{demo.framework}@example.com"
    password = "a client's long passphrase"
    password_account(driver, demo, email, password)
    password_sign_in(driver, demo, email, password)
    session = call(driver, "return client.getSession()")
    assert session["user"]["email"] == email
    # update(): the CSRF-protected POST of the session action; the demo lets nothing change, so the same session.
    assert call(driver, "return client.update({ name: 'ignored' })")["user"]["email"] == email
    # Sign-out through the page's button (the module's signOut with redirect: false).
    driver.find_element(By.ID, "signout").click()
    wait_for_status(driver, "unauthenticated")
    assert call(driver, "return client.getSession()") is None
    # signOut answers where it would have gone.
    password_sign_in(driver, demo, email, password)
    answer = call(driver, "return client.signOut({ callbackUrl: '/client', redirect: false })")
    assert answer == {"url": demo.url("/client")}
    wait_for_status(driver, "unauthenticated")


def test_a_failed_sign_in_answers_its_error_and_the_page_shows_it(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-refused-{demo.framework}@example.com"
    password_account(driver, demo, email, "the right passphrase here")
    open_client_page(driver, demo)
    text, code = submit(driver, "password-form", **{"password-email": email, "password-password": "a wrong passphrase"})
    assert code == "invalid_credentials"
    assert text == "The email address or password is not correct."
    assert driver.find_element(By.ID, "status").text == "unauthenticated"
    # What signIn answers, exactly: next-auth's shape with the stable code and the text for people.
    answer = call(driver, "return client.signIn('password', { email: args[0], password: 'still wrong', redirect: false })", email)
    assert answer["ok"] is False and answer["error"] == "invalid_credentials" and answer["status"] == 401
    assert answer["url"] is None and answer["message"]
    # An unknown address is refused the same way.
    unknown = call(driver, "return client.signIn('password', { email: 'nobody-client@example.com', password: 'whatever it is', redirect: false })")
    assert (unknown["error"], unknown["status"]) == ("invalid_credentials", 401)
    # A wrong verification code and a malformed address.
    wrong = call(driver, "return client.verifyEmail({ email: args[0], code: '00000000' })", "never-signed-up@example.com")
    assert wrong["ok"] is False and wrong["error"] == "invalid_verification" and wrong["status"] == 400
    malformed = call(driver, "return client.signIn('link', { email: 'not an address', redirect: false })")
    assert malformed["ok"] is False and malformed["status"] == 400 and malformed["error"]
    # A second factor's code without a password first.
    expired = call(driver, "return client.verifySecondFactor({ code: '123456', redirect: false })")
    assert (expired["ok"], expired["error"], expired["status"]) == (False, "challenge_expired", 401)
    assert call(driver, "return client.getSession()") is None


def test_a_magic_link_through_the_client(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-link-{demo.framework}@example.com"
    open_client_page(driver, demo)
    seen = len(demo.links_for(email))
    assert submit(driver, "link-form", **{"link-email": email}) == ("Done.", "")
    answer = call(driver, "return client.signIn('link', { email: args[0], callbackUrl: '/client', redirect: false })", email)
    # The demo sends browsers to its own check-email page (its link provider's `sentURL`); WebDriver hands an
    # absent `error` over as None.
    assert answer == {"ok": True, "error": None, "status": 200, "url": demo.url("/check-email")}
    # The newer link (the browser's flow cookie is the second request's) signs in at once, and comes back here.
    demo.wait_for_link(email, after=seen)
    driver.get(demo.wait_for_link(email, after=seen + 1))
    wait_for_path(driver, "/client")
    wait_for_status(driver, "authenticated")
    assert driver.find_element(By.ID, "status").text == "authenticated"
    assert driver.find_element(By.ID, "who").text == email


def test_password_reset_and_resend_through_the_client(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-reset-{demo.framework}@example.com"
    password_account(driver, demo, email, "the first long passphrase")
    open_client_page(driver, demo)
    assert call(driver, "return client.resendVerification({ email: args[0] })", email)["ok"] is True
    assert call(driver, "return client.requestPasswordReset({ email: args[0] })", email)["ok"] is True
    link = urllib.parse.urlsplit(outbox_link(driver, demo, email, "reset"))
    query = dict(urllib.parse.parse_qsl(link.query))
    open_client_page(driver, demo)
    weak = call(driver, "return client.resetPassword({ user: args[0], token: args[1], password: 'password1' })", query["user"], query["token"])
    assert (weak["ok"], weak["error"]) == (False, "weak_password")
    done = call(driver, "return client.resetPassword({ user: args[0], token: args[1], password: 'the second long passphrase' })", query["user"], query["token"])
    assert done["ok"] is True
    # The link works once.
    again = call(driver, "return client.resetPassword({ user: args[0], token: args[1], password: 'a third long passphrase' })", query["user"], query["token"])
    assert (again["ok"], again["error"]) == (False, "invalid_verification")
    old = call(driver, "return client.signIn('password', { email: args[0], password: 'the first long passphrase', redirect: false })", email)
    assert old["error"] == "invalid_credentials"
    password_sign_in(driver, demo, email, "the second long passphrase")


def test_state_changing_calls_need_the_csrf_token(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-csrf-{demo.framework}@example.com"
    password_account(driver, demo, email, "a csrf tester's passphrase")
    password_sign_in(driver, demo, email, "a csrf tester's passphrase")
    json_headers = {"Content-Type": "application/json"}
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    # Without the token, or with another one: refused, nothing changes.
    refused = fetch(driver, "/auth/session", "POST", json.dumps({"data": {}}), json_headers)
    assert refused["status"] == 403 and refused["json"]["error"] == "invalid_csrf_token"
    refused = fetch(driver, "/auth/signout", "POST", "csrfToken=" + "A" * 43, form_headers)
    assert refused["status"] == 403 and refused["json"]["error"] == "invalid_csrf_token"
    refused = fetch(driver, "/auth/session", "POST", json.dumps({"data": {}, "csrfToken": "A" * 43}), json_headers)
    assert refused["status"] == 403 and refused["json"]["error"] == "invalid_csrf_token"
    assert call(driver, "return client.getSession()")["user"]["email"] == email
    # The module sends it: the same calls pass.
    assert call(driver, "return client.update({})")["user"]["email"] == email
    assert call(driver, "return client.signOut({ redirect: false })")["url"]
    assert call(driver, "return client.getSession()") is None


# MARK: The session store


def test_sign_out_in_one_tab_signs_out_the_other(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-tabs-{demo.framework}@example.com"
    password = "two tabs, one session"
    password_account(driver, demo, email, password)
    open_client_page(driver, demo)
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    open_client_page(driver, demo)
    second = driver.current_window_handle
    assert driver.find_element(By.ID, "status").text == "unauthenticated"
    # A sign-in in the first tab reaches the second without a reload.
    driver.switch_to.window(first)
    submit(driver, "password-form", **{"password-email": email, "password-password": password})
    wait_for_status(driver, "authenticated")
    driver.switch_to.window(second)
    wait_for_status(driver, "authenticated")
    assert driver.find_element(By.ID, "who").text == email
    # A sign-out in the second reaches the first.
    driver.find_element(By.ID, "signout").click()
    wait_for_status(driver, "unauthenticated")
    driver.switch_to.window(first)
    wait_for_status(driver, "unauthenticated")
    assert driver.find_element(By.ID, "signed-out").is_displayed()


def test_the_store_refetches_on_focus_and_on_its_interval_and_shares_requests(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-focus-{demo.framework}@example.com"
    password = "focus and interval"
    password_account(driver, demo, email, password)
    password_sign_in(driver, demo, email, password)
    # Several parts of the page asking at once: one request.
    before = session_requests(driver)
    sessions = call(driver, "const s = client.createSessionStore(); await new Promise((r) => setTimeout(r, 0)); "
                            "const all = await Promise.all([client.getSession(), client.getSession(), s.refetch(), s.refetch()]); s.close(); return all")
    assert [s["user"]["email"] for s in sessions] == [email] * 4
    assert session_requests(driver) - before == 1
    # The session ends behind the page's back (its cookies are gone): the page believes it until it looks again.
    driver.delete_all_cookies()
    assert driver.find_element(By.ID, "status").text == "authenticated"
    driver.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
    wait_for_status(driver, "unauthenticated")
    # On its interval (every second here) while signed in.
    password_sign_in(driver, demo, email, password)
    call(driver, "window.intervalStore = client.createSessionStore({ refetchInterval: 1, refetchOnWindowFocus: false }); "
                 "window.intervalStore.subscribe((s) => { document.body.dataset.interval = s.status; })")
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-interval") == "authenticated")
    driver.delete_all_cookies()
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-interval") == "unauthenticated")


def test_a_required_session_calls_the_hook_or_goes_to_sign_in(passkey_browser, demo):
    driver = passkey_browser
    open_client_page(driver, demo)
    calls = call(driver, "let n = 0; const s = client.createSessionStore({ required: true, onUnauthenticated: () => { n += 1; } }); "
                         "await s.refetch(); s.close(); return [n, s.status]")
    assert calls[0] >= 1 and calls[1] == "unauthenticated"
    # Without a hook: the sign-in page, told why and where to come back to.
    call(driver, "client.createSessionStore({ required: true })")
    wait_for_path(driver, "/auth/signin")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(driver.current_url).query))
    assert query == {"error": "SessionRequired", "callbackUrl": demo.url("/client")}


# MARK: Passkeys


def test_passkey_sign_up_sign_in_and_second_factor_through_the_client(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-passkey-{demo.framework}@example.com"
    open_client_page(driver, demo)
    assert call(driver, "return client.requestPasskeySignUpCode({ email: args[0] })", email)["ok"] is True
    driver.get(demo.url("/dev/outbox?to=" + urllib.parse.quote(email)))
    code = driver.find_elements(By.CSS_SELECTOR, "#messages code[id^='passkey-code-']")[-1].text
    open_client_page(driver, demo)
    wrong = call(driver, "return client.signUpWithPasskey({ email: args[0], code: '00000000', redirect: false })", email)
    assert wrong["ok"] is False and wrong["error"] and wrong["status"] >= 400
    assert credentials(driver) == []
    made = call(driver, "return client.signUpWithPasskey({ email: args[0], code: args[1], callbackUrl: '/client', redirect: false })", email, code)
    assert made["ok"] is True and made["url"]
    assert len(credentials(driver)) == 1
    wait_for_status(driver, "authenticated")
    assert call(driver, "return client.signOut({ redirect: false })")["url"]
    wait_for_status(driver, "unauthenticated")
    # The page's button: a discoverable sign-in.
    driver.find_element(By.ID, "passkey-signin").click()
    wait_for_status(driver, "authenticated")
    assert driver.find_element(By.ID, "who").text == email


def test_a_passkey_added_through_the_client_is_the_second_factor(passkey_browser, demo):
    driver = passkey_browser
    email = f"client-second-{demo.framework}@example.com"
    password = "password first, then a passkey"
    password_account(driver, demo, email, password)
    password_sign_in(driver, demo, email, password)
    added = call(driver, "return client.registerPasskey({ optionsUrl: '/account/passkeys/options', verifyUrl: '/account/passkeys', name: 'Client key' })")
    assert added["ok"] is True, added
    assert len(credentials(driver)) == 1
    call(driver, "return client.signOut({ redirect: false })")
    wait_for_status(driver, "unauthenticated")
    # The password alone: no session, the two-step form.
    answer = call(driver, "return client.signIn('password', { email: args[0], password: args[1], redirect: false })", email, password)
    assert answer["ok"] is False and answer["error"] == "two_factor_required" and answer["twoFactorRequired"] is True
    assert answer["url"] == demo.url("/auth/password/two-factor")
    assert call(driver, "return client.getSession()") is None
    # Through the page: the two-step section appears; a wrong code is refused, the passkey completes the sign-in.
    submit(driver, "password-form", **{"password-email": email, "password-password": password})
    assert driver.find_element(By.ID, "two-factor").is_displayed()
    text, code = submit(driver, "two-factor-code-form", **{"two-factor-code": "000000"})
    assert code == "invalid_code" and driver.find_element(By.ID, "status").text == "unauthenticated"
    driver.find_element(By.ID, "two-factor-passkey").click()
    wait_for_status(driver, "authenticated")
    assert driver.find_element(By.ID, "who").text == email
