"""Self-test for jose_interop.py.

Run from the package root:  python3 -m pytest Tests/Interop/test_jose_interop.py

Keys are generated with `cryptography` and turned into JWKs by hand (not by
either JOSE library), tokens are issued by the script with both libraries,
and every token is fed back through the script so each library verifies the
other's output.  JWS signatures are additionally checked directly with
`cryptography` as a third, library-independent opinion.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.padding import PKCS7

SCRIPT = Path(__file__).with_name("jose_interop.py")
LIBS = ("joserfc", "jwcrypto")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_dec(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def int_b64u(n: int, length: int | None = None) -> str:
    length = length or max(1, (n.bit_length() + 7) // 8)
    return b64u(n.to_bytes(length, "big"))


def run(request: dict | str, expect_rc: int = 0) -> dict | None:
    data = request if isinstance(request, str) else json.dumps(request)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        input=data.encode("utf-8"),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == expect_rc, proc.stderr.decode()
    if expect_rc != 0:
        return None
    # stdout must be exactly one JSON object (plus optional trailing newline)
    out = json.loads(proc.stdout.decode("utf-8"))
    assert isinstance(out, dict)
    assert set(out) == {"verify", "issue"}
    return out


def ec_jwks(curve: ec.EllipticCurve, crv: str, size: int):
    priv = ec.generate_private_key(curve)
    nums = priv.private_numbers()
    pub = {
        "kty": "EC",
        "crv": crv,
        "x": int_b64u(nums.public_numbers.x, size),
        "y": int_b64u(nums.public_numbers.y, size),
    }
    return priv, {**pub, "d": int_b64u(nums.private_value, size)}, pub


def ed_jwks():
    from cryptography.hazmat.primitives import serialization as s

    priv = ed25519.Ed25519PrivateKey.generate()
    x = priv.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    d = priv.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
    pub = {"kty": "OKP", "crv": "Ed25519", "x": b64u(x)}
    return priv, {**pub, "d": b64u(d)}, pub


def rsa_jwks():
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = priv.private_numbers()
    pub = {"kty": "RSA", "n": int_b64u(n.public_numbers.n), "e": int_b64u(n.public_numbers.e)}
    full = {
        **pub,
        "d": int_b64u(n.d),
        "p": int_b64u(n.p),
        "q": int_b64u(n.q),
        "dp": int_b64u(n.dmp1),
        "dq": int_b64u(n.dmq1),
        "qi": int_b64u(n.iqmp),
    }
    return priv, full, pub


def oct_jwk(nbytes: int):
    k = os.urandom(nbytes)
    jwk = {"kty": "oct", "k": b64u(k)}
    return k, jwk, jwk


# name -> (alg, enc, crypto key, private/oct JWK, public/oct JWK)
@pytest.fixture(scope="module")
def keys():
    p256 = ec_jwks(ec.SECP256R1(), "P-256", 32)
    p384 = ec_jwks(ec.SECP384R1(), "P-384", 48)
    ed = ed_jwks()
    rsa1 = rsa_jwks()
    return {
        "es256": ("ES256", None, *p256),
        "es384": ("ES384", None, *p384),
        "eddsa": ("EdDSA", None, *ed),
        "rs256": ("RS256", None, *rsa1),
        "ps256": ("PS256", None, *rsa1),
        "hs256": ("HS256", None, *oct_jwk(32)),
        "hs384": ("HS384", None, *oct_jwk(48)),
        "hs512": ("HS512", None, *oct_jwk(64)),
        "dir-a256gcm": ("dir", "A256GCM", *oct_jwk(32)),
        "dir-a256cbc-hs512": ("dir", "A256CBC-HS512", *oct_jwk(64)),
    }


PAYLOAD = {
    "sub": "user-42",
    "iat": 1700000000,
    "exp": 1,  # long expired on purpose: the script must NOT check claims
    "nbf": 4102444800,  # far future on purpose
    "scope": ["read", "write"],
    "meta": {"unicode": "h\u00e9llo \u2603 \U0001F600", "n": None, "f": 1.5, "t": True},
}


def independent_jws_check(alg: str, ckey, token: str) -> None:
    """Verify a compact JWS with plain `cryptography` (raises on failure)."""
    h, p, s = token.split(".")
    signing_input = f"{h}.{p}".encode("ascii")
    sig = b64u_dec(s)
    if alg in ("ES256", "ES384"):
        size, hsh = (32, hashes.SHA256()) if alg == "ES256" else (48, hashes.SHA384())
        assert len(sig) == 2 * size, f"{alg} signature must be raw r||s of {2 * size} bytes"
        r, ss = int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
        ckey.public_key().verify(encode_dss_signature(r, ss), signing_input, ec.ECDSA(hsh))
    elif alg == "EdDSA":
        ckey.public_key().verify(sig, signing_input)
    elif alg == "RS256":
        ckey.public_key().verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        ckey.public_key().verify(
            sig,
            signing_input,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
    elif alg.startswith("HS"):
        hsh = {"HS256": hashes.SHA256(), "HS384": hashes.SHA384(), "HS512": hashes.SHA512()}[alg]
        mac = hmac.HMAC(ckey, hsh)
        mac.update(signing_input)
        mac.verify(sig)
    else:  # pragma: no cover
        raise AssertionError(alg)


def compact_json_b64(obj: dict) -> str:
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def independent_jwe_gcm_decrypt(key: bytes, token: str) -> bytes:
    h, ek, iv, ct, tag = token.split(".")
    assert ek == "", "dir JWE must have an empty encrypted key"
    return AESGCM(key).decrypt(b64u_dec(iv), b64u_dec(ct) + b64u_dec(tag), h.encode("ascii"))


def _cbc_hs512_tag(mac_key: bytes, aad: bytes, iv: bytes, ct: bytes) -> bytes:
    al = (len(aad) * 8).to_bytes(8, "big")
    mac = hmac.HMAC(mac_key, hashes.SHA512())
    mac.update(aad + iv + ct + al)
    return mac.finalize()[:32]


def independent_jwe_cbc_hs512_decrypt(key: bytes, token: str) -> bytes:
    """RFC 7518 5.2.2.2 by hand: MAC_KEY = first 32 bytes, ENC_KEY = last 32."""
    h, ek, iv, ct, tag = token.split(".")
    assert ek == "", "dir JWE must have an empty encrypted key"
    iv_b, ct_b, tag_b = b64u_dec(iv), b64u_dec(ct), b64u_dec(tag)
    assert len(iv_b) == 16 and len(tag_b) == 32
    assert _cbc_hs512_tag(key[:32], h.encode("ascii"), iv_b, ct_b) == tag_b
    dec = Cipher(algorithms.AES(key[32:]), modes.CBC(iv_b)).decryptor()
    padded = dec.update(ct_b) + dec.finalize()
    unpad = PKCS7(128).unpadder()
    return unpad.update(padded) + unpad.finalize()


def independent_jwe_cbc_hs512_encrypt(key: bytes, header_b64: str, plaintext: bytes) -> str:
    iv = os.urandom(16)
    pad = PKCS7(128).padder()
    padded = pad.update(plaintext) + pad.finalize()
    enc = Cipher(algorithms.AES(key[32:]), modes.CBC(iv)).encryptor()
    ct = enc.update(padded) + enc.finalize()
    tag = _cbc_hs512_tag(key[:32], header_b64.encode("ascii"), iv, ct)
    return ".".join([header_b64, "", b64u(iv), b64u(ct), b64u(tag)])


def by_name_lib(entries: list[dict]) -> dict:
    out = {}
    for e in entries:
        key = (e["name"], e["library"])
        assert key not in out, f"duplicate result {key}"
        out[key] = e
    return out


# ----------------------------------------------------------------------------
# round trip: issue with both libs, verify with both libs
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def issued(keys):
    issue = []
    for name, (alg, enc, _ck, priv, _pub) in keys.items():
        issue.append({"name": name, "alg": alg, "enc": enc, "jwk": priv, "payload": PAYLOAD, "kid": f"kid-{name}"})
        # variant without kid but with typ
        issue.append({"name": name + "+typ", "alg": alg, "enc": enc, "jwk": priv, "payload": PAYLOAD, "typ": "JWT"})
    out = run({"issue": issue})
    assert out["verify"] == []
    assert len(out["issue"]) == 2 * len(issue)
    return by_name_lib(out["issue"])


def test_issue_all_succeed(issued, keys):
    for name in keys:
        for suffix in ("", "+typ"):
            for lib in LIBS:
                r = issued[(name + suffix, lib)]
                assert r["error"] is None, (name, lib, r["error"])
                assert isinstance(r["token"], str)
                parts = r["token"].split(".")
                assert len(parts) == (5 if keys[name][1] else 3)


def test_issued_headers_exact(issued, keys):
    for name, (alg, enc, *_rest) in keys.items():
        for lib in LIBS:
            base = {"alg": alg, **({"enc": enc} if enc else {})}
            h1 = json.loads(b64u_dec(issued[(name, lib)]["token"].split(".")[0]))
            assert h1 == {**base, "kid": f"kid-{name}"}, (name, lib, h1)
            h2 = json.loads(b64u_dec(issued[(name + "+typ", lib)]["token"].split(".")[0]))
            assert h2 == {**base, "typ": "JWT"}, (name, lib, h2)


def test_issued_jws_payload_is_json_serialization(issued, keys):
    for name, (alg, enc, *_rest) in keys.items():
        if enc:
            continue
        for lib in LIBS:
            raw = b64u_dec(issued[(name, lib)]["token"].split(".")[1])
            assert json.loads(raw) == PAYLOAD
            assert raw == json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False).encode()


def test_issued_jws_independent_signature_check(issued, keys):
    for name, (alg, enc, ckey, *_rest) in keys.items():
        if enc:
            continue
        for lib in LIBS:
            independent_jws_check(alg, ckey, issued[(name, lib)]["token"])


def test_issued_jwe_independent_decrypt(issued, keys):
    k_gcm = keys["dir-a256gcm"][2]
    k_cbc = keys["dir-a256cbc-hs512"][2]
    for lib in LIBS:
        for suffix in ("", "+typ"):
            pt = independent_jwe_gcm_decrypt(k_gcm, issued[("dir-a256gcm" + suffix, lib)]["token"])
            assert json.loads(pt) == PAYLOAD
            pt = independent_jwe_cbc_hs512_decrypt(k_cbc, issued[("dir-a256cbc-hs512" + suffix, lib)]["token"])
            assert json.loads(pt) == PAYLOAD


def test_cross_library_verify(issued, keys):
    verify = []
    for name, (alg, enc, _ck, _priv, pub) in keys.items():
        for issuer in LIBS:
            for suffix in ("", "+typ"):
                verify.append(
                    {"name": f"{name}{suffix}@{issuer}", "token": issued[(name + suffix, issuer)]["token"], "jwk": pub}
                )
    out = run({"verify": verify})
    assert out["issue"] == []
    res = by_name_lib(out["verify"])
    assert len(res) == 2 * len(verify)
    for v in verify:
        for lib in LIBS:
            r = res[(v["name"], lib)]
            assert r["ok"] is True, (v["name"], lib, r["error"])
            assert r["error"] is None
            assert r["payload"] == PAYLOAD
            assert r["header"]["alg"] == keys[v["name"].split("@")[0].split("+")[0]][0]


def test_verify_with_alg_pinned_in_jwk(issued, keys):
    """JWK carrying "alg" (and "kid"/"use") is accepted when it matches."""
    verify = []
    for name, (alg, enc, _ck, _priv, pub) in keys.items():
        jwk = {**pub, "alg": alg, "kid": f"kid-{name}", "use": "enc" if enc else "sig"}
        verify.append({"name": name, "token": issued[(name, "jwcrypto")]["token"], "jwk": jwk})
    out = run({"verify": verify})
    for r in out["verify"]:
        assert r["ok"] is True, (r["name"], r["library"], r["error"])


def test_verify_explicit_entry_alg_enc(issued, keys):
    verify = []
    for name, (alg, enc, _ck, _priv, pub) in keys.items():
        verify.append({"name": name, "token": issued[(name, "joserfc")]["token"], "jwk": pub, "alg": alg, "enc": enc})
    out = run({"verify": verify})
    for r in out["verify"]:
        assert r["ok"] is True, (r["name"], r["library"], r["error"])


# ----------------------------------------------------------------------------
# negative cases
# ----------------------------------------------------------------------------

def flip_char(segment: str, index: int = 0) -> str:
    c = segment[index]
    repl = "A" if c != "A" else "B"
    return segment[:index] + repl + segment[index + 1:]


def tampered_variants(token: str) -> dict[str, str]:
    parts = token.split(".")
    out = {}
    if len(parts) == 3:
        h, p, s = parts
        other_payload = b64u(json.dumps({**PAYLOAD, "sub": "admin"}, separators=(",", ":")).encode())
        out["payload"] = f"{h}.{other_payload}.{s}"
        out["signature"] = f"{h}.{p}.{flip_char(s, 5)}"
        out["sig-truncated"] = f"{h}.{p}.{s[:-4]}"
        out["sig-empty"] = f"{h}.{p}."
        hdr = json.loads(b64u_dec(h))
        out["header-extra"] = f"{b64u(json.dumps({**hdr, 'kid': 'evil'}).encode())}.{p}.{s}"
        out["alg-none"] = f"{b64u(json.dumps({'alg': 'none'}).encode())}.{p}."
    else:
        h, ek, iv, ct, tag = parts
        out["ciphertext"] = ".".join([h, ek, iv, flip_char(ct, 3), tag])
        out["tag"] = ".".join([h, ek, iv, ct, flip_char(tag, 3)])
        out["iv"] = ".".join([h, ek, flip_char(iv, 2), ct, tag])
        hdr = json.loads(b64u_dec(h))
        out["header"] = ".".join([b64u(json.dumps({**hdr, "kid": "evil"}).encode()), ek, iv, ct, tag])
        out["tag-empty"] = ".".join([h, ek, iv, ct, ""])
    return out


def test_tampered_tokens_rejected(issued, keys):
    verify = []
    for name, (alg, enc, _ck, _priv, pub) in keys.items():
        for issuer in LIBS:
            for kind, tok in tampered_variants(issued[(name, issuer)]["token"]).items():
                verify.append({"name": f"{name}@{issuer}/{kind}", "token": tok, "jwk": pub})
    out = run({"verify": verify})
    res = by_name_lib(out["verify"])
    assert len(res) == 2 * len(verify)
    for v in verify:
        for lib in LIBS:
            r = res[(v["name"], lib)]
            assert r["ok"] is False, (v["name"], lib)
            assert isinstance(r["error"], str) and r["error"], (v["name"], lib)
            assert r["payload"] is None and r["header"] is None


def test_wrong_key_rejected(issued, keys):
    pairs = [
        ("es256", "es256", keys["es384"][4]),  # wrong curve entirely
        ("hs256", "hs256", keys["hs512"][4]),
        ("rs256", "rs256", rsa_jwks()[2]),  # different RSA key
        ("eddsa", "eddsa", ed_jwks()[2]),
        ("es256-other", "es256", ec_jwks(ec.SECP256R1(), "P-256", 32)[2]),
        ("dir-a256gcm", "dir-a256gcm", oct_jwk(32)[1]),
        ("dir-a256cbc-hs512", "dir-a256cbc-hs512", oct_jwk(64)[1]),
        ("gcm-with-cbc-key", "dir-a256gcm", keys["dir-a256cbc-hs512"][4]),
    ]
    verify = []
    for label, src, jwk in pairs:
        for issuer in LIBS:
            verify.append({"name": f"{label}@{issuer}", "token": issued[(src, issuer)]["token"], "jwk": jwk})
    out = run({"verify": verify})
    for r in out["verify"]:
        assert r["ok"] is False, (r["name"], r["library"])
        assert r["error"]


def test_alg_mismatch_rejected(issued, keys):
    """Key pinned to a different alg of the same key type must fail."""
    rsa_pub = keys["rs256"][4]
    cases = [
        # RS256 token, JWK says PS256 (and vice versa)
        ("rs-as-ps", issued[("rs256", "joserfc")]["token"], {**rsa_pub, "alg": "PS256"}, None),
        ("ps-as-rs", issued[("ps256", "jwcrypto")]["token"], {**rsa_pub, "alg": "RS256"}, None),
        ("rs-entry-ps", issued[("rs256", "jwcrypto")]["token"], rsa_pub, "PS256"),
        # HS256 token verified with the same secret but pinned HS512
        ("hs256-as-hs512", issued[("hs256", "joserfc")]["token"], {**keys["hs256"][4], "alg": "HS512"}, None),
        ("hs256-entry-hs384", issued[("hs256", "jwcrypto")]["token"], keys["hs256"][4], "HS384"),
        # JWK alg contradicts the key type
        ("ec-key-rs-alg", issued[("es256", "joserfc")]["token"], {**keys["es256"][4], "alg": "RS256"}, None),
        # a JWS presented where a JWE was expected and vice versa
        ("jws-for-dir", issued[("hs256", "joserfc")]["token"], keys["hs256"][4], "dir"),
        ("jwe-for-hs", issued[("dir-a256gcm", "joserfc")]["token"], keys["dir-a256gcm"][4], "HS256"),
    ]
    verify = []
    for label, tok, jwk, alg in cases:
        e = {"name": label, "token": tok, "jwk": jwk}
        if alg:
            e["alg"] = alg
        verify.append(e)
    out = run({"verify": verify})
    assert len(out["verify"]) == 2 * len(cases)
    for r in out["verify"]:
        assert r["ok"] is False, (r["name"], r["library"])
        assert r["error"]


def test_wrong_enc_pinned_rejected(issued, keys):
    tok = issued[("dir-a256cbc-hs512", "joserfc")]["token"]
    out = run({"verify": [{"name": "x", "token": tok, "jwk": keys["dir-a256cbc-hs512"][4], "enc": "A256GCM"}]})
    for r in out["verify"]:
        assert r["ok"] is False and r["error"]


def test_hs256_key_confusion_with_rsa_public_key(keys):
    """Classic alg-confusion: HS256 token MACed with the RSA public key bytes."""
    pub = keys["rs256"][4]
    secret = json.dumps(pub).encode()
    h = b64u(json.dumps({"alg": "HS256"}).encode())
    p = b64u(json.dumps(PAYLOAD).encode())
    mac = hmac.HMAC(secret, hashes.SHA256())
    mac.update(f"{h}.{p}".encode())
    tok = f"{h}.{p}.{b64u(mac.finalize())}"
    out = run({"verify": [{"name": "confusion", "token": tok, "jwk": pub}]})
    for r in out["verify"]:
        assert r["ok"] is False


def test_non_object_payload_rejected(keys):
    k = keys["hs256"][2]
    h = b64u(json.dumps({"alg": "HS256"}).encode())
    p = b64u(b"[1,2,3]")
    mac = hmac.HMAC(k, hashes.SHA256())
    mac.update(f"{h}.{p}".encode())
    tok = f"{h}.{p}.{b64u(mac.finalize())}"
    out = run({"verify": [{"name": "arr", "token": tok, "jwk": keys["hs256"][4]}]})
    for r in out["verify"]:
        assert r["ok"] is False
        assert "JSON object" in r["error"]


def test_hand_made_tokens_verify(keys):
    """Tokens built with plain `cryptography` (a stand-in for the Swift side)."""
    k = keys["hs384"][2]
    h = b64u(json.dumps({"alg": "HS384", "typ": "JWT", "kid": "x"}).encode())
    p = b64u(json.dumps(PAYLOAD).encode())
    mac = hmac.HMAC(k, hashes.SHA384())
    mac.update(f"{h}.{p}".encode())
    hs_tok = f"{h}.{p}.{b64u(mac.finalize())}"

    _a, _e, ed_priv, _full, ed_pub = keys["eddsa"]
    h2 = b64u(json.dumps({"alg": "EdDSA"}).encode())
    ed_tok = f"{h2}.{p}.{b64u(ed_priv.sign(f'{h2}.{p}'.encode()))}"

    gk = keys["dir-a256gcm"][2]
    h3 = compact_json_b64({"alg": "dir", "enc": "A256GCM", "kid": "g"})
    iv = os.urandom(12)
    ct = AESGCM(gk).encrypt(iv, json.dumps(PAYLOAD).encode(), h3.encode())
    gcm_tok = ".".join([h3, "", b64u(iv), b64u(ct[:-16]), b64u(ct[-16:])])

    ck = keys["dir-a256cbc-hs512"][2]
    h4 = compact_json_b64({"alg": "dir", "enc": "A256CBC-HS512"})
    cbc_tok = independent_jwe_cbc_hs512_encrypt(ck, h4, json.dumps(PAYLOAD).encode())

    out = run(
        {
            "verify": [
                {"name": "hs384", "token": hs_tok, "jwk": keys["hs384"][4]},
                {"name": "eddsa", "token": ed_tok, "jwk": ed_pub},
                {"name": "gcm", "token": gcm_tok, "jwk": keys["dir-a256gcm"][4]},
                {"name": "cbc", "token": cbc_tok, "jwk": keys["dir-a256cbc-hs512"][4]},
            ]
        }
    )
    res = by_name_lib(out["verify"])
    for lib in LIBS:
        assert res[("hs384", lib)]["ok"], res[("hs384", lib)]["error"]
        assert res[("hs384", lib)]["header"] == {"alg": "HS384", "typ": "JWT", "kid": "x"}
        assert res[("eddsa", lib)]["ok"], res[("eddsa", lib)]["error"]
        assert res[("gcm", lib)]["ok"], res[("gcm", lib)]["error"]
        assert res[("gcm", lib)]["header"] == {"alg": "dir", "enc": "A256GCM", "kid": "g"}
        assert res[("gcm", lib)]["payload"] == PAYLOAD
        assert res[("cbc", lib)]["ok"], res[("cbc", lib)]["error"]
        assert res[("cbc", lib)]["header"] == {"alg": "dir", "enc": "A256CBC-HS512"}
        assert res[("cbc", lib)]["payload"] == PAYLOAD


def _noncompact_header_jwe_results(keys) -> dict:
    """JWE whose protected header is valid but not in Python's compact
    json.dumps form (spaces, escaped slash) -- e.g. Swift JSONEncoder's
    default escapes "/" as "\\/"."""
    gk = keys["dir-a256gcm"][2]
    tokens = {}
    for label, raw in {
        "spaced": b'{"alg": "dir", "enc": "A256GCM"}',
        "escaped-slash": b'{"alg":"dir","enc":"A256GCM","kid":"a\\/b"}',
        "compact": b'{"alg":"dir","enc":"A256GCM","kid":"a/b"}',
    }.items():
        h = b64u(raw)
        iv = os.urandom(12)
        ct = AESGCM(gk).encrypt(iv, json.dumps(PAYLOAD).encode(), h.encode())
        tokens[label] = ".".join([h, "", b64u(iv), b64u(ct[:-16]), b64u(ct[-16:])])
    out = run({"verify": [{"name": n, "token": t, "jwk": keys["dir-a256gcm"][4]} for n, t in tokens.items()]})
    return by_name_lib(out["verify"])


def test_jwe_noncompact_header_jwcrypto(keys):
    res = _noncompact_header_jwe_results(keys)
    for label in ("spaced", "escaped-slash", "compact"):
        assert res[(label, "jwcrypto")]["ok"], res[(label, "jwcrypto")]["error"]
    assert res[("compact", "joserfc")]["ok"], res[("compact", "joserfc")]["error"]


@pytest.mark.xfail(
    strict=False,
    reason="joserfc recomputes the JWE AAD from json.dumps(parsed header, separators=(',',':'), "
    "ensure_ascii=True) instead of the received segment (authlib/joserfc#101)",
)
def test_jwe_noncompact_header_joserfc(keys):
    res = _noncompact_header_jwe_results(keys)
    for label in ("spaced", "escaped-slash"):
        assert res[(label, "joserfc")]["ok"], res[(label, "joserfc")]["error"]


# ----------------------------------------------------------------------------
# protocol robustness
# ----------------------------------------------------------------------------

def test_bad_entries_reported_not_crashing(keys):
    out = run(
        {
            "verify": [
                {"name": "garbage", "token": "not-a-token", "jwk": keys["hs256"][4]},
                {"name": "two-dots-garbage", "token": "a.b.c", "jwk": keys["hs256"][4]},
                {"name": "no-jwk", "token": "a.b.c"},
                {"name": "weird-kty", "token": "a.b.c", "jwk": {"kty": "nope"}},
            ],
            "issue": [
                {"name": "bad-alg", "alg": "RS512", "enc": None, "jwk": keys["rs256"][3], "payload": {}},
                {"name": "none-alg", "alg": "none", "enc": None, "jwk": keys["hs256"][3], "payload": {}},
                {"name": "bad-enc", "alg": "dir", "enc": "A128GCM", "jwk": keys["dir-a256gcm"][3], "payload": {}},
                {"name": "enc-key-len", "alg": "dir", "enc": "A256GCM", "jwk": keys["dir-a256cbc-hs512"][3], "payload": {}},
                {"name": "key-mismatch", "alg": "ES256", "enc": None, "jwk": keys["es384"][3], "payload": {}},
                {"name": "pub-only", "alg": "ES256", "enc": None, "jwk": keys["es256"][4], "payload": {}},
            ],
        }
    )
    assert len(out["verify"]) == 8
    for r in out["verify"]:
        assert r["ok"] is False and r["error"], r
    assert len(out["issue"]) == 12
    for r in out["issue"]:
        assert r["token"] is None and r["error"], r


def test_empty_request():
    assert run({}) == {"verify": [], "issue": []}


@pytest.mark.parametrize("bad", ["", "not json", "[]", '{"verify": 3}', '{"issue": [1]}'])
def test_malformed_input_nonzero_exit(bad):
    run(bad, expect_rc=2)
