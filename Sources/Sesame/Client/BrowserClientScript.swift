import HTTPTypes

/// Sesame's browser client, served by ``AuthHandler`` at `{prefix}/client.js` with TypeScript declarations at
/// `{prefix}/client.d.ts`: next-auth's client API (`getSession`, `getCsrfToken`, `getProviders`, `signIn`, `signOut`,
/// `update`), a session store like its `SessionProvider` + `useSession` (status, subscribers, refetch on an interval
/// and on focus, one shared request, tabs kept in sync through `BroadcastChannel`, `required`), and the password and
/// passkey calls. One ES module: no dependencies, no build step, nothing inline (pages import it from a module
/// script of their own under a strict content security policy).
enum BrowserClientScript {
    /// The module.
    static let source = #"""
// Sesame's browser client: next-auth's client API (getSession, getCsrfToken, getProviders, signIn, signOut, update),
// a session store like its SessionProvider + useSession, and the password and passkey calls, as one ES module.
// Served by Sesame's handler at {prefix}/client.js, declarations at {prefix}/client.d.ts. No dependencies, no build
// step, no inline script: import it from a module script of your own, which a strict CSP allows.
//   import { createSessionStore, signIn, signOut } from "/auth/client.js";
const prefix = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const endpoint = (path) => `${prefix}/${path}`;
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("sesame-auth");
const stores = new Set();
// Session reads share one request; a change (sign-in, sign-out, update, another tab's) starts a new generation,
// so nobody joins a request that began before it.
let generation = 0;
let sessionRequest = null;
let csrfRequest = null;

const readJSON = async (response) => {
  try { return await response.json(); } catch (_) { return null; }
};

/** The stable error code of a refusal: its `error`, or the `error` in the error page URL it answers. */
const errorCode = (data) => {
  if (data && typeof data.error === "string") return data.error;
  if (data && typeof data.url === "string") {
    try { return new URL(data.url, location.href).searchParams.get("error"); } catch (_) { /* not a URL */ }
  }
  return null;
};

/** `{ok, error, status, url, message}`, next-auth's answer shape, from a response and its JSON. */
const outcome = (response, data) => {
  const error = response.ok ? errorCode(data) : errorCode(data) || "server_error";
  const result = { ok: response.ok && !error, error: error || undefined, status: response.status, url: error ? null : (data && data.url) || null };
  if (data && data.message) result.message = data.message;
  return result;
};

const navigate = (url) => {
  window.location.href = url;
  if (url.includes("#")) window.location.reload();
};

/** Tells this page's stores and the other tabs that the session may have changed. */
const changed = (trigger) => {
  generation += 1;
  if (channel) channel.postMessage({ event: "session", trigger });
  for (const store of stores) store.refetch();
};
if (channel) channel.onmessage = () => {
  generation += 1;
  for (const store of stores) store.refetch();
};

/**
 * A state-changing request, with the CSRF token and `X-Auth-Return-Redirect: 1` (so redirects answer `{url}`):
 * a form by default, JSON with `json: true`.
 */
async function post(path, fields, { json = false } = {}) {
  const csrfToken = await getCsrfToken();
  const headers = { Accept: "application/json", "X-Auth-Return-Redirect": "1" };
  let body;
  if (json) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify({ ...fields, csrfToken });
  } else {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined && value !== null) form.append(name, String(value));
    form.append("csrfToken", csrfToken);
    body = form;
  }
  const response = await fetch(endpoint(path), { method: "POST", credentials: "same-origin", headers, body });
  return { response, data: await readJSON(response) };
}

/** `{ok, session}`: the session read (ok), or a failure (`ok: false`: the server or the network could not answer). */
function loadSession() {
  if (!sessionRequest || sessionRequest.generation !== generation) {
    const request = {
      generation,
      promise: fetch(endpoint("session"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(async (response) => (response.ok ? { ok: true, session: await readJSON(response) } : { ok: false, session: null }))
        .catch(() => ({ ok: false, session: null }))
        .finally(() => { if (sessionRequest === request) sessionRequest = null; }),
    };
    sessionRequest = request;
  }
  return sessionRequest.promise;
}

/** The session (`{user, expires, …}`) or `null` (also when it cannot be read, as next-auth answers); callers
 * asking at the same time share one request. */
export async function getSession() {
  return (await loadSession()).session;
}

/** The CSRF token that state-changing calls send (the same request sets its cookie when the browser has none). */
export function getCsrfToken() {
  if (!csrfRequest) {
    csrfRequest = fetch(endpoint("csrf"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(async (response) => ((await readJSON(response)) || {}).csrfToken || "")
      .finally(() => { csrfRequest = null; });
  }
  return csrfRequest;
}

/** The providers by id, `{id, name, type, signinUrl, callbackUrl}` each, or `null`. */
export async function getProviders() {
  try {
    const response = await fetch(endpoint("providers"), { credentials: "same-origin", headers: { Accept: "application/json" } });
    return response.ok ? await readJSON(response) : null;
  } catch (_) {
    return null;
  }
}

/**
 * Signs in with a provider, as next-auth's `signIn` does. OAuth and OpenID Connect providers always redirect; an
 * email (link) or credentials (password) provider with `redirect: false` answers `{ok, error, status, url}`
 * instead. A password that needs a second factor answers `{ok: false, error: "two_factor_required",
 * twoFactorRequired: true, url}` (the two-step page); finish with `verifySecondFactor` or `passkeySecondFactor`.
 * A `webauthn` provider runs the passkey prompt (`signInWithPasskey`).
 */
export async function signIn(provider, options = {}, authorizationParams = undefined) {
  const { callbackUrl = window.location.href, redirect = true, ...fields } = options || {};
  const providers = await getProviders();
  if (!providers) return navigate(endpoint("error"));
  if (!provider || !Object.prototype.hasOwnProperty.call(providers, provider)) {
    return navigate(`${endpoint("signin")}?${new URLSearchParams({ callbackUrl })}`);
  }
  const type = providers[provider].type;
  if (type === "webauthn") return signInWithPasskey({ provider, callbackUrl, redirect });
  const returns = type === "credentials" || type === "email";
  const query = authorizationParams ? `?${new URLSearchParams(authorizationParams)}` : "";
  const { response, data } = await post(`${type === "credentials" ? "callback" : "signin"}/${encodeURIComponent(provider)}${query}`, { ...fields, callbackUrl });
  return finish(response, data, { callbackUrl, redirect: redirect || !returns, signedIn: type === "credentials" });
}

/** A sign-in's answer: navigates (`redirect`), or answers next-auth's shape and tells the stores. */
function finish(response, data, { callbackUrl, redirect, signedIn }) {
  if (data && data.twoFactorRequired) {
    if (redirect) return navigate(data.url);
    return { ok: false, error: "two_factor_required", twoFactorRequired: true, status: response.status, url: data.url };
  }
  if (redirect) return navigate((data && data.url) || callbackUrl);
  const result = outcome(response, data);
  if (result.ok && signedIn) changed("signin");
  return result;
}

/** Signs out (CSRF-protected); other tabs follow. With `redirect: false` answers `{url}` and stays. */
export async function signOut({ callbackUrl = window.location.href, redirect = true } = {}) {
  const { response, data } = await post("signout", { callbackUrl });
  if (response.ok) changed("signout");
  if (redirect && response.ok) return navigate((data && data.url) || callbackUrl);
  return response.ok ? data : outcome(response, data);
}

/**
 * Auth.js's `update(data)`: `POST session` with `{csrfToken, data}`; the server's `update` closure decides what
 * changes. Answers the session (or `null`), and the other tabs refetch.
 */
export async function update(data) {
  const { response, data: session } = await post("session", { data }, { json: true });
  if (!response.ok) return null;
  changed("update");
  return session;
}

// MARK: Passwords

/** Creates an email-and-password account; the same answer for new and known addresses. `{ok, error, status}`. */
export async function signUp({ email, password, name, provider = "password" } = {}) {
  const { response, data } = await post(`${provider}/signup`, { email, password, name });
  return outcome(response, data);
}

/** Verifies the address with the emailed code. */
export async function verifyEmail({ email, code, provider = "password" } = {}) {
  const { response, data } = await post(`${provider}/verify`, { email, code });
  return outcome(response, data);
}

/** Sends a new verification to an unverified address (same answer for every address). */
export async function resendVerification({ email, provider = "password" } = {}) {
  const { response, data } = await post(`${provider}/resend`, { email });
  return outcome(response, data);
}

/** Sends a password-reset link (same answer for every address). */
export async function requestPasswordReset({ email, provider = "password" } = {}) {
  const { response, data } = await post(`${provider}/forgot`, { email });
  return outcome(response, data);
}

/** Sets a new password with the reset link's `user` and `token`; every session of the user ends. */
export async function resetPassword({ user, token, password, provider = "password" } = {}) {
  const { response, data } = await post(`${provider}/reset`, { user, token, password });
  return outcome(response, data);
}

/** Completes a password sign-in with an authenticator app's code or a recovery code. */
export async function verifySecondFactor({ code, provider = "password", callbackUrl = window.location.href, redirect = true } = {}) {
  const { response, data } = await post(`${provider}/two-factor`, { code });
  return finish(response, data, { callbackUrl, redirect: redirect && response.ok, signedIn: true });
}

// MARK: Passkeys

"""# + "\n" + WebAuthnCodecScript.source + "\n" + #"""
/** Runs the browser's prompt for a ceremony's options (`{action, options}`); `null` with an outcome when it fails. */
async function prompt(options, { mediation, signal } = {}) {
  if (options.action === "register") return navigator.credentials.create({ publicKey: creationOptions(options.options), signal });
  return navigator.credentials.get({ publicKey: requestOptions(options.options), mediation, signal });
}

/** The outcome of a prompt the person closed or that failed in the browser. */
const promptFailure = (error) => ({
  ok: false, error: error && error.name === "NotAllowedError" ? "passkey_prompt_closed" : "passkey_prompt_failed",
  status: 0, url: null, message: error && error.name === "NotAllowedError" ? "The passkey prompt was closed or timed out." : "The passkey prompt did not work.",
});

/** Runs a ceremony: options, the prompt, the credential to `verify` (with `extra` fields). */
async function ceremony(optionsRequest, verify, extra, finishing) {
  const { response, data } = await optionsRequest();
  if (!response.ok || !data || !data.options) return outcome(response, data);
  let credential;
  try {
    credential = await prompt(data, finishing);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    return promptFailure(error);
  }
  if (!credential) return promptFailure(null);
  const answer = await post(verify, { action: data.action, data: credentialJSON(credential), ...extra }, { json: true });
  return finish(answer.response, answer.data, { ...finishing, redirect: finishing.redirect && answer.response.ok });
}

const getJSON = async (path) => {
  const response = await fetch(endpoint(path), { credentials: "same-origin", headers: { Accept: "application/json" } });
  return { response, data: await readJSON(response) };
};

/**
 * Signs in with a passkey (a discoverable credential: no address typed). With `mediation: "conditional"` it waits
 * for the person to pick a passkey from the browser's autofill (abort it with `signal`).
 */
export async function signInWithPasskey({ provider = "passkey", callbackUrl = window.location.href, redirect = true, mediation, signal } = {}) {
  const query = new URLSearchParams({ action: "authenticate", callbackUrl });
  return ceremony(() => getJSON(`webauthn-options/${encodeURIComponent(provider)}?${query}`), `callback/${encodeURIComponent(provider)}`, {},
    { callbackUrl, redirect, signedIn: true, mediation, signal });
}

/** Asks for a passkey sign-up code by email (the same answer for every address). */
export async function requestPasskeySignUpCode({ email, name, provider = "passkey" } = {}) {
  const { response, data } = await post(`${provider}/signup`, { email, name });
  return outcome(response, data);
}

/** Creates an account with a passkey after the emailed code proves the address. */
export async function signUpWithPasskey({ email, code, name, passkeyName, provider = "passkey", callbackUrl = window.location.href, redirect = true } = {}) {
  return ceremony(() => post(`${provider}/signup-options`, { email, code, name }), `callback/${encodeURIComponent(provider)}`,
    passkeyName ? { name: passkeyName } : {}, { callbackUrl, redirect, signedIn: true });
}

/** Completes a password sign-in with one of the user's passkeys. */
export async function passkeySecondFactor({ provider = "password", callbackUrl = window.location.href, redirect = true } = {}) {
  return ceremony(() => post(`${provider}/two-factor-options`, {}), `${provider}/two-factor`, {}, { callbackUrl, redirect, signedIn: true });
}

/**
 * Adds a passkey to the signed-in user through the app's own routes (`optionsUrl` answers the registration
 * options, `verifyUrl` stores the credential), as the demo's account page does.
 */
export async function registerPasskey({ optionsUrl, verifyUrl, name } = {}) {
  const postTo = async (url, fields) => {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ ...fields, csrfToken: await getCsrfToken() }),
    });
    return { response, data: await readJSON(response) };
  };
  const options = await postTo(optionsUrl, {});
  if (!options.response.ok || !options.data || !options.data.options) return outcome(options.response, options.data);
  let credential;
  try {
    credential = await prompt(options.data);
  } catch (error) {
    return promptFailure(error);
  }
  if (!credential) return promptFailure(null);
  const { response, data } = await postTo(verifyUrl, { action: options.data.action, data: credentialJSON(credential), name });
  return outcome(response, data);
}

// MARK: The session store

/**
 * One session state per page, as next-auth's `SessionProvider` + `useSession` keep it: `status` (`"loading"`,
 * `"authenticated"`, `"unauthenticated"`) and `data`, `subscribe(listener)`; refetched every `refetchInterval`
 * seconds (0: never) while signed in, when the page becomes visible or focused again (`refetchOnWindowFocus`),
 * and when this page or another tab signs in, signs out or updates. Refetches share one request. With
 * `required: true`, an unauthenticated session calls `onUnauthenticated` (default: go to the sign-in page).
 */
export function createSessionStore({ refetchInterval = 0, refetchOnWindowFocus = true, required = false, onUnauthenticated } = {}) {
  let data = null;
  let status = "loading";
  let closed = false;
  const listeners = new Set();
  const notify = () => { for (const listener of listeners) listener({ data, status }); };
  const store = {
    get data() { return data; },
    get status() { return status; },
    /** Calls `listener({data, status})` now and on every change; answers the function that unsubscribes. */
    subscribe(listener) {
      listeners.add(listener);
      listener({ data, status });
      return () => listeners.delete(listener);
    },
    /** Fetches the session again (one request for concurrent callers); answers it. A failed read (the server or
     * the network down) changes nothing: the page keeps what it knew. */
    async refetch() {
      const { ok, session } = await loadSession();
      if (closed || !ok) return data;
      const next = session ? "authenticated" : "unauthenticated";
      const differs = next !== status || JSON.stringify(session) !== JSON.stringify(data);
      data = session;
      status = next;
      if (differs) notify();
      if (required && !session) {
        if (onUnauthenticated) onUnauthenticated();
        else navigate(`${endpoint("signin")}?${new URLSearchParams({ error: "SessionRequired", callbackUrl: window.location.href })}`);
      }
      return session;
    },
    /** `update(value)`, then the new session. */
    async update(value) {
      await update(value);
      return store.refetch();
    },
    /** Stops refetching and listening. */
    close() {
      closed = true;
      stores.delete(store);
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("focus", onVisible);
      if (timer) clearInterval(timer);
      listeners.clear();
    },
  };
  const onVisible = () => { if (refetchOnWindowFocus && document.visibilityState === "visible") store.refetch(); };
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("focus", onVisible);
  const timer = refetchInterval > 0 ? setInterval(() => { if (status === "authenticated") store.refetch(); }, refetchInterval * 1000) : null;
  stores.add(store);
  store.refetch();
  return store;
}
"""#

    /// Its TypeScript declarations.
    static let declarations = #"""
// TypeScript declarations of Sesame's browser client ({prefix}/client.js).

/** The client-safe session the server's `session` action answers (the app chooses its fields). */
export interface Session {
  user?: { name?: string | null; email?: string | null; image?: string | null; [field: string]: unknown };
  expires?: string;
  [field: string]: unknown;
}

/** A provider as the `providers` action lists it. */
export interface ClientSafeProvider {
  id: string;
  name: string;
  /** `oauth`, `oidc`, `email` (links), `credentials` (passwords) or `webauthn` (passkeys). */
  type: string;
  signinUrl: string;
  callbackUrl: string;
}

/** What a call that does not navigate answers (next-auth's `SignInResponse`, plus Sesame's `message`). */
export interface AuthResult {
  /** Whether the call succeeded. */
  ok: boolean;
  /** The stable error code (`invalid_credentials`, `rate_limited`, `two_factor_required`, …); absent on success. */
  error?: string;
  /** The HTTP status (0 when the browser's passkey prompt failed before any request). */
  status: number;
  /** Where the flow goes next (absolute), or `null` after an error. */
  url: string | null;
  /** Text for people explaining a refusal. */
  message?: string;
  /** A password sign-in that waits for its second factor (`url` is the two-step page). */
  twoFactorRequired?: boolean;
}

export interface SignInOptions extends Record<string, unknown> {
  /** Where to go after signing in (default: this page); the server keeps it only when its redirect policy allows. */
  callbackUrl?: string;
  /** `false`: answer an `AuthResult` instead of navigating (email and credentials providers). Default `true`. */
  redirect?: boolean;
}

export interface SignOutOptions {
  callbackUrl?: string;
  redirect?: boolean;
}

export function getSession(): Promise<Session | null>;
export function getCsrfToken(): Promise<string>;
export function getProviders(): Promise<Record<string, ClientSafeProvider> | null>;
export function signIn(
  provider?: string,
  options?: SignInOptions,
  authorizationParams?: string | string[][] | Record<string, string> | URLSearchParams,
): Promise<AuthResult | undefined>;
export function signOut(options?: SignOutOptions): Promise<{ url: string } | AuthResult | undefined>;
export function update(data?: unknown): Promise<Session | null>;

export function signUp(options: { email: string; password: string; name?: string; provider?: string }): Promise<AuthResult>;
export function verifyEmail(options: { email: string; code: string; provider?: string }): Promise<AuthResult>;
export function resendVerification(options: { email: string; provider?: string }): Promise<AuthResult>;
export function requestPasswordReset(options: { email: string; provider?: string }): Promise<AuthResult>;
export function resetPassword(options: { user: string; token: string; password: string; provider?: string }): Promise<AuthResult>;
export function verifySecondFactor(options: { code: string; provider?: string; callbackUrl?: string; redirect?: boolean }): Promise<AuthResult | undefined>;

export function signInWithPasskey(options?: {
  provider?: string;
  callbackUrl?: string;
  redirect?: boolean;
  mediation?: "conditional" | "optional" | "required" | "silent";
  signal?: AbortSignal;
}): Promise<AuthResult | undefined>;
export function requestPasskeySignUpCode(options: { email: string; name?: string; provider?: string }): Promise<AuthResult>;
export function signUpWithPasskey(options: {
  email: string;
  code: string;
  name?: string;
  passkeyName?: string;
  provider?: string;
  callbackUrl?: string;
  redirect?: boolean;
}): Promise<AuthResult | undefined>;
export function passkeySecondFactor(options?: { provider?: string; callbackUrl?: string; redirect?: boolean }): Promise<AuthResult | undefined>;
export function registerPasskey(options: { optionsUrl: string; verifyUrl: string; name?: string }): Promise<AuthResult>;

export type SessionStatus = "loading" | "authenticated" | "unauthenticated";

export interface SessionState {
  data: Session | null;
  status: SessionStatus;
}

export interface SessionStoreOptions {
  /** Seconds between refetches while signed in (0: never). */
  refetchInterval?: number;
  /** Refetch when the page becomes visible or focused again (default `true`). */
  refetchOnWindowFocus?: boolean;
  /** Whether the page needs a session: without one, `onUnauthenticated` runs (default: go to the sign-in page). */
  required?: boolean;
  onUnauthenticated?: () => void;
}

export interface SessionStore extends SessionState {
  subscribe(listener: (state: SessionState) => void): () => void;
  refetch(): Promise<Session | null>;
  update(data?: unknown): Promise<Session | null>;
  close(): void;
}

export function createSessionStore(options?: SessionStoreOptions): SessionStore;
"""#

    /// The module's response.
    static let module = ServedScript(source: source, contentType: "text/javascript; charset=utf-8")
    /// The declarations' response.
    static let typeDeclarations = ServedScript(source: declarations, contentType: "application/typescript; charset=utf-8")
}
