/// The browser side of WebAuthn's JSON, shared by the passkey script (``PasskeyScript``) and the browser client
/// (``BrowserClientScript``): base64url to and from bytes, the options the server sends made ready for
/// `navigator.credentials.create()` / `.get()`, and a credential as the JSON the server reads.
enum WebAuthnCodecScript {
    /// The declarations (`bytes`, `base64url`, `creationOptions`, `requestOptions`, `credentialJSON`).
    static let source = #"""
const bytes = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
};
const base64url = (buffer) => {
  let binary = "";
  for (const b of new Uint8Array(buffer)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};
const creationOptions = (o) => ({
  ...o, challenge: bytes(o.challenge), user: { ...o.user, id: bytes(o.user.id) },
  excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
});
const requestOptions = (o) => ({
  ...o, challenge: bytes(o.challenge), allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
});
const credentialJSON = (c) => {
  const r = c.response;
  const json = { id: c.id, rawId: base64url(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment || undefined,
    clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {}, response: { clientDataJSON: base64url(r.clientDataJSON) } };
  if (r.attestationObject) {
    json.response.attestationObject = base64url(r.attestationObject);
    json.response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    json.response.authenticatorData = base64url(r.authenticatorData);
    json.response.signature = base64url(r.signature);
    if (r.userHandle) json.response.userHandle = base64url(r.userHandle);
  }
  return json;
};
"""#
}
