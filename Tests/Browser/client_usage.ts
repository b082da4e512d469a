// Every function of the browser client as a page script calls it: type-checked against the served client.d.ts
// (tsc --strict) by test_client.py.
import * as client from "./client";
async function main(): Promise<void> {
  const session: client.Session | null = await client.getSession();
  const token: string = await client.getCsrfToken();
  const providers = await client.getProviders();
  const result = await client.signIn("password", { email: "a@example.com", password: "x", redirect: false });
  if (result && !result.ok) console.log(result.error, result.status, result.message, result.twoFactorRequired);
  await client.signIn("github", { callbackUrl: "/" }, { prompt: "login" });
  await client.signOut({ callbackUrl: "/", redirect: false });
  const updated: client.Session | null = await client.update({ name: "x" });
  await client.signUp({ email: "a@example.com", password: "x" });
  await client.verifyEmail({ email: "a@example.com", code: "1" });
  await client.resendVerification({ email: "a@example.com" });
  await client.requestPasswordReset({ email: "a@example.com" });
  await client.resetPassword({ user: "u", token: "t", password: "p" });
  await client.verifySecondFactor({ code: "123456", redirect: false });
  await client.signInWithPasskey({ mediation: "conditional", signal: new AbortController().signal });
  await client.requestPasskeySignUpCode({ email: "a@example.com" });
  await client.signUpWithPasskey({ email: "a@example.com", code: "1" });
  await client.passkeySecondFactor({ redirect: false });
  await client.registerPasskey({ optionsUrl: "/o", verifyUrl: "/v" });
  const store: client.SessionStore = client.createSessionStore({ refetchInterval: 60, required: true, onUnauthenticated: () => {} });
  const unsubscribe = store.subscribe(({ status, data }) => { const s: client.SessionStatus = status; console.log(s, data?.user?.email); });
  unsubscribe();
  await store.refetch();
  store.close();
  console.log(session, token, providers?.password?.type, updated);
}
main();
