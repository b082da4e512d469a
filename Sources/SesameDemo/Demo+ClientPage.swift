import HTTPTypes
import Sesame

/// The demo's browser-client page (`/client`): sign-in, sign-up, the second factor, passkeys and sign-out through
/// Sesame's module (`/auth/client.js`) alone, under a strict policy (this origin's scripts, no inline script).
extension Demo {
    /// The page: the session's status and the forms; `/client.js` does the work.
    public func clientPage() -> AuthResponse {
        var response = AuthResponse.html(HTML.page(title: "Browser client", body: """
            <h1>Browser client</h1>
            <p>Status: <strong id="status">loading</strong> <span id="who"></span></p>
            <p class="muted">Providers: <span id="providers"></span></p>
            <p id="result" role="status"></p>
            <section id="signed-out" hidden>
            <form id="password-form"><h2>Password</h2>
            <label for="password-email">Email address</label><input id="password-email" type="email" autocomplete="username" required>
            <label for="password-password">Password</label><input id="password-password" type="password" autocomplete="current-password" required>
            <button type="submit">Sign in</button></form>
            <p><button type="button" id="passkey-signin">Sign in with a passkey</button></p>
            <form id="link-form"><h2>Email link</h2>
            <label for="link-email">Email address</label><input id="link-email" type="email" autocomplete="email" required>
            <button type="submit">Email me a link</button></form>
            <form id="signup-form"><h2>Create an account</h2>
            <label for="signup-email">Email address</label><input id="signup-email" type="email" autocomplete="email" required>
            <label for="signup-password">Password</label><input id="signup-password" type="password" autocomplete="new-password" required>
            <button type="submit">Create account</button></form>
            <form id="verify-form">
            <label for="verify-code">Verification code</label><input id="verify-code" type="text" inputmode="numeric" autocomplete="one-time-code" required>
            <button type="submit">Verify</button></form>
            </section>
            <section id="two-factor" hidden><h2>Two-step verification</h2>
            <form id="two-factor-code-form">
            <label for="two-factor-code">Code from your authenticator app, or a recovery code</label>
            <input id="two-factor-code" type="text" autocomplete="one-time-code" required>
            <button type="submit">Verify</button></form>
            <p><button type="button" id="two-factor-passkey">Use a passkey</button></p>
            </section>
            <section id="signed-in" hidden>
            <p><a href="/">Home</a> · <a href="/account">Your account</a></p>
            <button type="button" id="signout">Sign out</button>
            </section>
            <script type="module" src="/client.js"></script>
            """))
        response.head.headerFields[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return response
    }

    /// The page's module script.
    public func clientPageScript() -> AuthResponse {
        var response = AuthResponse(head: HTTPResponse(status: .ok), body: Array(DemoClientScript.source.utf8))
        response.head.headerFields[.contentType] = "text/javascript; charset=utf-8"
        response.head.headerFields[.cacheControl] = "no-cache"
        response.head.headerFields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return response
    }
}

/// The client page's script: it imports Sesame's browser client and nothing else.
enum DemoClientScript {
    static let source = #"""
// The demo's browser-client page: everything through Sesame's module, nothing inline.
import {
  createSessionStore, getProviders, signIn, signOut, signUp, verifyEmail, verifySecondFactor, signInWithPasskey,
  passkeySecondFactor,
} from "/auth/client.js";

const $ = (id) => document.getElementById(id);
const value = (id) => $(id).value;
const store = createSessionStore({ refetchInterval: 300 });

store.subscribe(({ data, status }) => {
  $("status").textContent = status;
  $("who").textContent = data && data.user ? data.user.email || "" : "";
  $("signed-in").hidden = status !== "authenticated";
  $("signed-out").hidden = status !== "unauthenticated";
  if (status === "authenticated") $("two-factor").hidden = true;
});

/** Shows a call's outcome: "ok", or the refusal's message, with its code in data-error. */
const show = (result) => {
  const element = $("result");
  if (!result) return;
  element.textContent = result.ok ? "Done." : result.message || result.error;
  element.dataset.error = result.ok ? "" : result.error || "";
  if (result.twoFactorRequired) $("two-factor").hidden = false;
};
const on = (id, handler) => $(id).addEventListener("submit", async (event) => {
  event.preventDefault();
  show(await handler());
});

on("password-form", () => signIn("password", { email: value("password-email"), password: value("password-password"), redirect: false }));
on("link-form", () => signIn("link", { email: value("link-email"), redirect: false }));
on("signup-form", () => signUp({ email: value("signup-email"), password: value("signup-password") }));
on("verify-form", () => verifyEmail({ email: value("signup-email"), code: value("verify-code") }));
on("two-factor-code-form", () => verifySecondFactor({ code: value("two-factor-code"), redirect: false }));
$("two-factor-passkey").addEventListener("click", async () => show(await passkeySecondFactor({ redirect: false })));
$("passkey-signin").addEventListener("click", async () => show(await signInWithPasskey({ redirect: false })));
$("signout").addEventListener("click", async () => show({ ok: true, ...(await signOut({ redirect: false })) }));

const providers = await getProviders();
$("providers").textContent = providers ? Object.values(providers).map((p) => `${p.name} (${p.type})`).join(", ") : "none";
"""#
}
