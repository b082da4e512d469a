#!/usr/bin/env python3
"""JOSE interop helper for Sesame's Swift test-suite.

Reads ONE JSON object from stdin, writes ONE JSON object to stdout.
Diagnostics go to stderr.  Exit code 0 whenever the request was processed
(individual failures are reported per entry); nonzero only if the input is
malformed or the script itself crashes.

Every verify entry is checked independently by two JOSE libraries
(joserfc and jwcrypto); every issue entry is signed/encrypted by both.

Input:
  {
    "verify": [ {"name": str, "token": str, "jwk": {...},
                 "alg": str?, "enc": str?}, ... ],
    "issue":  [ {"name": str, "alg": str, "enc": str|null, "jwk": {...},
                 "payload": {...}, "kid": str?, "typ": str?}, ... ]
  }
Output (one result per input entry per library, joserfc first):
  {
    "verify": [ {"name", "library", "ok", "payload", "header", "error"}, ... ],
    "issue":  [ {"name", "library", "token", "error"}, ... ]
  }
  On failure: verify -> ok=false, payload=null, header=null,
  error="<ExceptionClass>: <message>"; issue -> token=null, error=...

Accepted algorithms for a verify entry (passed to each library as its
allow-list, "none" is never allowed):
  * 3-part token (JWS): the entry's "alg" if given, else the JWK's "alg",
    else the key-type family: EC P-256 -> ES256, EC P-384 -> ES384,
    OKP Ed25519 -> EdDSA, RSA -> RS256|PS256, oct -> HS256|HS384|HS512.
    Entry alg and JWK alg must agree and fit the key type.
  * 5-part token (JWE): alg "dir" only; enc is the entry's "enc" if given,
    else inferred from the oct key length (32 -> A256GCM, 64 -> A256CBC-HS512).
Claims (exp/nbf/iat/...) are NOT checked.  The token's "kid" is not matched
against the JWK's "kid" (neither library does that for a single key).
The JSON payload must be a JSON object, else ok=false.

Issued tokens: protected header is exactly {"alg"[, "enc"][, "kid"][, "typ"]}
(in that order, compact JSON); payload/plaintext is
json.dumps(payload, separators=(",", ":"), ensure_ascii=False) in UTF-8.
"""

from __future__ import annotations

import base64
import json
import sys
import traceback
import warnings
from typing import Any

LIBRARIES = ("joserfc", "jwcrypto")

JWS_ALGS = ("ES256", "ES384", "EdDSA", "RS256", "PS256", "HS256", "HS384", "HS512")
JWE_ENCS = ("A256GCM", "A256CBC-HS512")
# Required CEK length (bytes) for "dir" with each content encryption algorithm.
ENC_KEY_LEN = {"A256GCM": 32, "A256CBC-HS512": 64}
# Both names of Ed25519 signing (RFC 8037 "EdDSA", RFC 9864 "Ed25519") are
# normalised to "EdDSA" when reading a JWK/entry alg; only "EdDSA" is allowed
# in token headers.
EDDSA_NAMES = ("EdDSA", "Ed25519")


class InteropError(Exception):
    """A per-entry error that is reported, not raised to the top."""


def log(*args: Any) -> None:
    print(*args, file=sys.stderr)


def b64url_decode(data: str) -> bytes:
    pad = "=" * (-len(data) % 4)
    return base64.urlsafe_b64decode(data + pad)


def encode_payload(payload: Any) -> bytes:
    """Canonical-ish JSON serialization shared by both libraries."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_json_object(raw: bytes | str, what: str) -> dict:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise InteropError(f"{what} is not a JSON object")
    return obj


def token_kind(token: str) -> str:
    parts = token.split(".")
    if len(parts) == 3:
        return "jws"
    if len(parts) == 5:
        return "jwe"
    raise InteropError(f"token has {len(parts)} dot-separated parts; expected 3 (JWS) or 5 (JWE)")


def raw_protected_header(token: str) -> dict:
    """Protected header decoded without any verification (only used for
    reporting/choosing, never for trusting)."""
    return decode_json_object(b64url_decode(token.split(".")[0]), "protected header")


def expected_jws_algs(jwk: dict, pinned: str | None) -> list[str]:
    """The exact set of JWS algorithms acceptable for this key.

    Derived from (in order of precedence) the entry's explicit "alg", the
    JWK's "alg" member, and the key type/curve.  The entry's "alg" and the
    JWK's "alg" must agree when both are present.
    """
    kty = jwk.get("kty")
    if kty == "EC":
        crv = jwk.get("crv")
        family = {"P-256": ["ES256"], "P-384": ["ES384"]}.get(crv)
        if family is None:
            raise InteropError(f"unsupported EC curve {crv!r}")
    elif kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise InteropError(f"unsupported OKP curve {jwk.get('crv')!r}")
        family = ["EdDSA"]
    elif kty == "RSA":
        family = ["RS256", "PS256"]
    elif kty == "oct":
        family = ["HS256", "HS384", "HS512"]
    else:
        raise InteropError(f"unsupported kty {kty!r} for JWS")

    def norm(a: str) -> str:
        return "EdDSA" if a in EDDSA_NAMES else a

    key_alg = jwk.get("alg")
    for label, a in (("JWK alg", key_alg), ("entry alg", pinned)):
        if a is not None and norm(a) not in family:
            raise InteropError(f"{label} {a!r} does not match key type {kty!r} (allowed {family})")
    if key_alg is not None and pinned is not None and norm(key_alg) != norm(pinned):
        raise InteropError(f"entry alg {pinned!r} != JWK alg {key_alg!r}")
    chosen = pinned or key_alg
    return [norm(chosen)] if chosen else family


def expected_jwe(jwk: dict, pinned_alg: str | None, pinned_enc: str | None) -> tuple[str, str]:
    if jwk.get("kty") != "oct":
        raise InteropError("JWE 'dir' requires an oct JWK")
    alg = pinned_alg or jwk.get("alg") or "dir"
    if alg != "dir" or (jwk.get("alg") not in (None, "dir")):
        raise InteropError(f"unsupported JWE alg {alg!r} / JWK alg {jwk.get('alg')!r}")
    key_len = len(b64url_decode(jwk.get("k", "")))
    if pinned_enc is not None:
        if pinned_enc not in JWE_ENCS:
            raise InteropError(f"unsupported enc {pinned_enc!r}")
        enc = pinned_enc
    else:
        matches = [e for e, n in ENC_KEY_LEN.items() if n == key_len]
        if not matches:
            raise InteropError(f"oct key of {key_len} bytes fits no supported enc")
        enc = matches[0]
    if ENC_KEY_LEN[enc] != key_len:
        raise InteropError(f"enc {enc} needs a {ENC_KEY_LEN[enc]}-byte key, got {key_len}")
    return alg, enc


# --------------------------------------------------------------------------
# joserfc
# --------------------------------------------------------------------------

def _joserfc_key(jwk_dict: dict):
    from joserfc import jwk

    return jwk.import_key(dict(jwk_dict))


def joserfc_verify(token: str, jwk_dict: dict, kind: str, algs: list[str]) -> tuple[dict, dict]:
    from joserfc import jwe, jws

    key = _joserfc_key(jwk_dict)
    if kind == "jws":
        # "EdDSA" only (joserfc also knows the RFC 9864 name "Ed25519"; a token
        # carrying that alg is rejected because it is not in the allowed list).
        names = list(algs)
        registry = jws.JWSRegistry(algorithms=names)
        obj = jws.deserialize_compact(token, key, algorithms=names, registry=registry)
        header = dict(obj.protected)
        payload = obj.payload
    else:
        registry = jwe.JWERegistry(algorithms=list(algs))
        obj = jwe.decrypt_compact(token, key, algorithms=list(algs), registry=registry)
        header = dict(obj.protected)
        payload = obj.plaintext
        if header.get("alg") != algs[0] or header.get("enc") != algs[1]:
            raise InteropError(f"unexpected JWE header alg/enc: {header.get('alg')}/{header.get('enc')}")
    if header.get("alg") not in algs:
        raise InteropError(f"header alg {header.get('alg')!r} not in {algs}")
    return decode_json_object(payload, "payload"), header


def joserfc_issue(header: dict, payload: bytes, jwk_dict: dict) -> str:
    from joserfc import jwe, jws

    key = _joserfc_key(jwk_dict)
    if "enc" in header:
        algs = [header["alg"], header["enc"]]
        registry = jwe.JWERegistry(algorithms=algs)
        return jwe.encrypt_compact(dict(header), payload, key, algorithms=algs, registry=registry)
    algs = [header["alg"]]
    registry = jws.JWSRegistry(algorithms=algs)
    return jws.serialize_compact(dict(header), payload, key, algorithms=algs, registry=registry)


# --------------------------------------------------------------------------
# jwcrypto
# --------------------------------------------------------------------------

def _jwcrypto_key(jwk_dict: dict):
    from jwcrypto import jwk

    return jwk.JWK(**jwk_dict)


def jwcrypto_verify(token: str, jwk_dict: dict, kind: str, algs: list[str]) -> tuple[dict, dict]:
    from jwcrypto import jwe, jws

    key = _jwcrypto_key(jwk_dict)
    if kind == "jws":
        obj = jws.JWS()
        obj.allowed_algs = list(algs)
        obj.deserialize(token)
        # verify(alg=...) additionally pins the algorithm; with several
        # candidates (e.g. RS256/PS256 for an RSA key) allowed_algs restricts it.
        obj.verify(key, alg=algs[0] if len(algs) == 1 else None)
        payload = obj.payload
        protected = decode_json_object(obj.objects["protected"], "protected header")
    else:
        obj = jwe.JWE()
        obj.allowed_algs = list(algs)
        obj.deserialize(token, key=key)
        protected = decode_json_object(obj.objects["protected"], "protected header")
        payload = obj.payload
        if protected.get("alg") != algs[0] or protected.get("enc") != algs[1]:
            raise InteropError(f"unexpected JWE header alg/enc: {protected.get('alg')}/{protected.get('enc')}")
    if protected.get("alg") not in algs:
        raise InteropError(f"header alg {protected.get('alg')!r} not in {algs}")
    return decode_json_object(payload, "payload"), protected


def jwcrypto_issue(header: dict, payload: bytes, jwk_dict: dict) -> str:
    from jwcrypto import jwe, jws

    key = _jwcrypto_key(jwk_dict)
    # Compact header JSON (json.dumps'
    # default ", "/": " separators are legal, but joserfc 1.6.5 (and 1.7.0 per
    # the upstream report) recomputes the JWE AAD from a re-serialized header,
    # so spaced headers break JWE interop, see authlib/joserfc#101).
    protected = json.dumps(header, separators=(",", ":"))
    if "enc" in header:
        obj = jwe.JWE(payload, protected=protected)
        obj.allowed_algs = [header["alg"], header["enc"]]
        obj.add_recipient(key)
        return obj.serialize(compact=True)
    obj = jws.JWS(payload)
    obj.allowed_algs = [header["alg"]]
    obj.add_signature(key, alg=header["alg"], protected=protected)
    return obj.serialize(compact=True)


VERIFIERS = {"joserfc": joserfc_verify, "jwcrypto": jwcrypto_verify}
ISSUERS = {"joserfc": joserfc_issue, "jwcrypto": jwcrypto_issue}


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def err_text(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def do_verify(entry: dict) -> list[dict]:
    name = entry.get("name")
    results = []
    try:
        token = entry["token"]
        jwk_dict = entry["jwk"]
        if not isinstance(token, str) or not isinstance(jwk_dict, dict):
            raise InteropError("'token' must be a string and 'jwk' an object")
        token = token.strip()
        kind = token_kind(token)
        if kind == "jws":
            if entry.get("enc") is not None:
                raise InteropError("entry expects JWE (enc set) but token is a JWS")
            algs = expected_jws_algs(jwk_dict, entry.get("alg"))
        else:
            if entry.get("alg") not in (None, "dir"):
                raise InteropError(f"entry expects JWS alg {entry.get('alg')!r} but token is a JWE")
            algs = list(expected_jwe(jwk_dict, entry.get("alg"), entry.get("enc")))
        setup_error = None
    except Exception as exc:  # noqa: BLE001 - reported per entry
        setup_error = err_text(exc)

    for lib in LIBRARIES:
        res = {"name": name, "library": lib, "ok": False, "payload": None, "header": None, "error": None}
        if setup_error is not None:
            res["error"] = setup_error
        else:
            try:
                payload, header = VERIFIERS[lib](token, jwk_dict, kind, algs)
                res.update(ok=True, payload=payload, header=header)
            except Exception as exc:  # noqa: BLE001 - reported per entry
                res["error"] = err_text(exc)
                log(f"[verify {name!r} {lib}] {res['error']}")
        results.append(res)
    return results


def build_issue_header(entry: dict) -> dict:
    alg = entry.get("alg")
    enc = entry.get("enc")
    jwk_dict = entry.get("jwk")
    if not isinstance(jwk_dict, dict):
        raise InteropError("'jwk' must be an object")
    if enc is not None:
        if alg != "dir":
            raise InteropError(f"JWE issue requires alg 'dir', got {alg!r}")
        expected_jwe(jwk_dict, alg, enc)
        header = {"alg": alg, "enc": enc}
    else:
        if alg not in JWS_ALGS:
            raise InteropError(f"unsupported JWS alg {alg!r}")
        expected_jws_algs(jwk_dict, alg)
        header = {"alg": alg}
    if entry.get("kid") is not None:
        header["kid"] = entry["kid"]
    if entry.get("typ") is not None:
        header["typ"] = entry["typ"]
    return header


def do_issue(entry: dict) -> list[dict]:
    name = entry.get("name")
    try:
        if "payload" not in entry:
            raise InteropError("missing 'payload'")
        header = build_issue_header(entry)
        payload = encode_payload(entry["payload"])
        setup_error = None
    except Exception as exc:  # noqa: BLE001
        setup_error = err_text(exc)

    results = []
    for lib in LIBRARIES:
        res = {"name": name, "library": lib, "token": None, "error": None}
        if setup_error is not None:
            res["error"] = setup_error
        else:
            try:
                res["token"] = ISSUERS[lib](header, payload, entry["jwk"])
            except Exception as exc:  # noqa: BLE001
                res["error"] = err_text(exc)
                log(f"[issue {name!r} {lib}] {res['error']}")
        results.append(res)
    return results


def main() -> int:
    try:
        request = json.load(sys.stdin)
    except Exception as exc:  # noqa: BLE001
        log(f"malformed input: {err_text(exc)}")
        return 2
    if not isinstance(request, dict):
        log("malformed input: top-level value must be a JSON object")
        return 2
    verify = request.get("verify", [])
    issue = request.get("issue", [])
    if not isinstance(verify, list) or not isinstance(issue, list):
        log("malformed input: 'verify' and 'issue' must be arrays")
        return 2
    if not all(isinstance(e, dict) for e in verify + issue):
        log("malformed input: every entry must be a JSON object")
        return 2

    out: dict[str, list] = {"verify": [], "issue": []}
    with warnings.catch_warnings():
        # Library security warnings (e.g. non-recommended algs) go to stderr
        # via the default handler; keep them out of stdout.
        warnings.simplefilter("default")
        for entry in verify:
            out["verify"].extend(do_verify(entry))
        for entry in issue:
            out["issue"].extend(do_issue(entry))

    sys.stdout.write(json.dumps(out, ensure_ascii=False))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        sys.exit(1)
