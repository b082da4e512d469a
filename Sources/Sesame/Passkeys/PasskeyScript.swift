/// The browser half of the passkey ceremonies, served by ``AuthHandler`` at `{prefix}/passkey.js`: options from
/// the server, `navigator.credentials.create()` / `.get()`, the credential's JSON back. No dependencies, no build
/// step, no inline script (it runs under the pages' strict content security policy); elements opt in with
/// `data-passkey` attributes.
enum PasskeyScript {
    /// The script.
    static let source = #"""
// Sesame's passkey ceremonies: options from the server, the browser's WebAuthn prompt, the answer back.
// No dependencies, no build step, no inline script: elements opt in with data attributes.
//   data-passkey="signin|signup|register|second-factor"  what the element starts (a button, or a form for signup)
//   data-options="URL"  where the options come from (GET for signin, POST with JSON otherwise)
//   data-verify="URL"   where the credential goes (POST, JSON)
//   data-csrf="TOKEN"   the CSRF token, sent as csrfToken
//   data-callback-url="URL"  where a sign-in is headed
//   data-error="ID"     the element that shows a refusal (default passkey-error)
// An <input autocomplete="username webauthn"> on the page gets passkey autofill (conditional mediation) through
// the first data-passkey="signin" element's URLs.
(() => {
  "use strict";
"""# + "\n" + WebAuthnCodecScript.source + "\n" + #"""
  const post = (url, body) => fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-Auth-Return-Redirect": "1" },
    body: JSON.stringify(body),
  });
  const answer = async (response) => {
    let json = {};
    try { json = await response.json(); } catch (_) { /* not JSON */ }
    // `message` is the text for people; `error_description` is for developers and stays out of the page.
    if (!response.ok) throw Object.assign(new Error(json.message || "That did not work. Try again."), { code: json.error || "server_error" });
    return json;
  };
  const show = (element, error) => {
    const target = document.getElementById(element.dataset.error || "passkey-error");
    const message = error.name === "NotAllowedError" ? "The passkey prompt was closed or timed out." : error.message;
    if (target) { target.textContent = message; target.dataset.code = error.code || error.name || ""; target.hidden = false; }
  };
  const field = (form, name) => (form && form.elements && form.elements[name] ? form.elements[name].value : undefined);

  let autofill = null;
  const run = async (element, event) => {
    if (event) event.preventDefault();
    if (autofill) { autofill.abort(); autofill = null; }
    const kind = element.dataset.passkey, csrfToken = element.dataset.csrf;
    const form = element.tagName === "FORM" ? element : element.closest("form");
    try {
      let options;
      if (kind === "signin") {
        const url = new URL(element.dataset.options, location.href);
        if (element.dataset.callbackUrl) url.searchParams.set("callbackUrl", element.dataset.callbackUrl);
        options = await answer(await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }));
      } else {
        const body = { csrfToken };
        if (kind === "signup") { body.email = field(form, "email"); body.code = field(form, "code"); body.name = field(form, "name"); }
        options = await answer(await post(element.dataset.options, body));
      }
      let credential;
      if (options.action === "register") {
        credential = await navigator.credentials.create({ publicKey: creationOptions(options.options) });
      } else {
        credential = await navigator.credentials.get({ publicKey: requestOptions(options.options) });
      }
      const body = { action: options.action, data: credentialJSON(credential), csrfToken };
      const name = field(form, "passkeyName");
      if (name) body.name = name;
      const done = await answer(await post(element.dataset.verify, body));
      location.assign(done.url || location.href);
    } catch (error) {
      show(element, error);
    }
  };
  const startAutofill = async (element) => {
    if (!window.PublicKeyCredential || !PublicKeyCredential.isConditionalMediationAvailable) return;
    if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    autofill = new AbortController();
    try {
      const url = new URL(element.dataset.options, location.href);
      if (element.dataset.callbackUrl) url.searchParams.set("callbackUrl", element.dataset.callbackUrl);
      const options = await answer(await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }));
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options.options), mediation: "conditional", signal: autofill.signal });
      const done = await answer(await post(element.dataset.verify, { action: "authenticate", data: credentialJSON(credential), csrfToken: element.dataset.csrf }));
      location.assign(done.url || location.href);
    } catch (error) {
      if (error.name !== "AbortError") show(element, error);
    }
  };
  const ready = () => {
    if (!window.PublicKeyCredential) {
      for (const element of document.querySelectorAll("[data-passkey]")) element.hidden = true;
      return;
    }
    for (const element of document.querySelectorAll("[data-passkey]")) {
      element.addEventListener(element.tagName === "FORM" ? "submit" : "click", (event) => run(element, event));
    }
    const signin = document.querySelector('[data-passkey="signin"]');
    if (signin && document.querySelector('input[autocomplete~="webauthn"]')) startAutofill(signin);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
})();
"""#

    /// The script's response.
    static let script = ServedScript(source: source, contentType: "text/javascript; charset=utf-8")
}
