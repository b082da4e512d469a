#!/usr/bin/env python3
"""Verify every vector in Tests/SesameTests/Support/RFCVectors.swift.

The constants are read back out of the Swift source (so this checks the file the
Swift tests actually compile), then checked with `cryptography` and, where it
applies, cross-checked with a second JOSE implementation (`joserfc`):

  * each JWS verifies with its key and carries the expected header and payload;
  * deterministic signatures (RS256, HS256, EdDSA) re-sign to the identical bytes;
  * private key components are mutually consistent and match the public members;
  * JWK thumbprints recompute (RFC 7638 section 3.1, RFC 8037 A.3);
  * RFC 7518 B.3 AES_256_CBC_HMAC_SHA_512 reproduces E and T from K, P, IV, A.

Usage: python3 Tests/Interop/verify_rfc_vectors.py [path/to/RFCVectors.swift]
Exits 0 if everything matches, 1 on any mismatch, 2 if the Swift file cannot be parsed.
"""

import base64
import hashlib
import hmac
import json
import math
import re
import sys
import warnings
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# joserfc flags EdDSA as deprecated by RFC 9864; irrelevant for checking RFC 8037's vector.
warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")

DEFAULT_SWIFT = Path(__file__).resolve().parents[1] / "SesameTests" / "Support" / "RFCVectors.swift"

# ---------------------------------------------------------------------------
# Swift constant extraction
# ---------------------------------------------------------------------------

_SWIFT_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def _unescape_swift(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "u":
            m = re.match(r"u\{([0-9A-Fa-f]{1,8})\}", body[i + 1:])
            if not m:
                raise ValueError("bad \\u escape near: " + body[i:i + 12])
            out.append(chr(int(m.group(1), 16)))
            i += 1 + m.end()
        elif nxt in _SWIFT_ESCAPES:
            out.append(_SWIFT_ESCAPES[nxt])
            i += 2
        else:
            raise ValueError("unsupported escape \\" + nxt)
    return "".join(out)


def load_swift_constants(path):
    src = Path(path).read_text(encoding="utf-8")
    consts = {}
    # 1. raw multi-line strings:  static let x = #"""\n ... \n    """#
    for m in re.finditer(r'static let (\w+)\s*=\s*#"""\n(.*?)\n([ \t]*)"""#', src, re.S):
        name, body, indent = m.group(1), m.group(2), m.group(3)
        lines = body.split("\n")
        for ln in lines:
            if ln.strip() and not ln.startswith(indent):
                raise ValueError(f"{name}: line not indented to closing delimiter")
        consts[name] = "\n".join(ln[len(indent):] for ln in lines)
    # 2. raw single-line strings:  static let x = #"..."#
    for m in re.finditer(r'static let (\w+)\s*=\s*#"(?!"")(.*?)"#', src):
        consts.setdefault(m.group(1), m.group(2))
    # 3. ordinary string literals with escapes
    for m in re.finditer(r'static let (\w+)\s*=\s*"((?:[^"\\\n]|\\.)*)"', src):
        consts.setdefault(m.group(1), _unescape_swift(m.group(2)))
    declared = re.findall(r"static let (\w+)", src)
    missing = sorted(set(declared) - set(consts))
    if missing:
        raise ValueError("could not parse constants: " + ", ".join(missing))
    return consts


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def b64u_dec(s):
    if re.search(r"[^A-Za-z0-9_-]", s):
        raise ValueError("not base64url (no padding): %r" % s[:40])
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_enc(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def b64u_int(s):
    return int.from_bytes(b64u_dec(s), "big")


def split_compact(token):
    if re.search(r"\s", token):
        raise ValueError("compact serialization contains whitespace")
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("expected 3 compact parts, got %d" % len(parts))
    h, p, s = parts
    return (h + "." + p).encode("ascii"), b64u_dec(h), b64u_dec(p), b64u_dec(s)


class Checker:
    def __init__(self):
        self.failures = 0
        self.passes = 0

    def check(self, label, fn):
        try:
            result = fn()
            if result is False:
                raise AssertionError("returned False")
        except Exception as exc:  # noqa: BLE001 - report every failure, keep going
            self.failures += 1
            print(f"FAIL  {label}: {type(exc).__name__}: {exc}")
        else:
            self.passes += 1
            print(f"ok    {label}")


def eq(a, b, what="value"):
    if a != b:
        raise AssertionError(f"{what} mismatch:\n  got      {a!r}\n  expected {b!r}")
    return True


def rsa_private_from_jwk(jwk):
    n, e, d = b64u_int(jwk["n"]), b64u_int(jwk["e"]), b64u_int(jwk["d"])
    p, q = b64u_int(jwk["p"]), b64u_int(jwk["q"])
    dp, dq, qi = b64u_int(jwk["dp"]), b64u_int(jwk["dq"]), b64u_int(jwk["qi"])
    # Full mutual consistency (cryptography only checks ranges and p*q == n).
    eq(p * q, n, "p*q vs n")
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    eq((d * e) % lam, 1, "d*e mod lcm(p-1,q-1)")
    eq(dp, d % (p - 1), "dp")
    eq(dq, d % (q - 1), "dq")
    eq((qi * q) % p, 1, "qi*q mod p")
    pub = rsa.RSAPublicNumbers(e, n)
    return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, pub).private_key()


def rsa_public_from_jwk(jwk):
    return rsa.RSAPublicNumbers(b64u_int(jwk["e"]), b64u_int(jwk["n"])).public_key()


def thumbprint(jwk):
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
                "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[jwk["kty"]]
    canon = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True,
                       ensure_ascii=False).encode("utf-8")
    return canon, hashlib.sha256(canon).digest()


def joserfc_verify(token, jwk_dict, alg):
    """Cross-check with joserfc: returns the verified payload bytes."""
    from joserfc import jws
    from joserfc.jwk import import_key
    key = import_key({k: v for k, v in jwk_dict.items() if k not in ("use", "alg")})
    obj = jws.deserialize_compact(token, key, algorithms=[alg])
    return obj.payload


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------

# RFC 7520 Figure 7, with "\xe2\x80\x99" substituted as the RFC describes.
RFC7520_FIG7 = (b"It\xe2\x80\x99s a dangerous business, Frodo, going out your "
                b"door. You step onto the road, and if you don't keep your feet, "
                b"there\xe2\x80\x99s no knowing where you might be swept off "
                b"to.")
# RFC 7515 A.1.1 payload octets (as listed in the RFC's byte array).
RFC7515_PAYLOAD = bytes([123, 34, 105, 115, 115, 34, 58, 34, 106, 111, 101, 34, 44, 13, 10, 32, 34,
                         101, 120, 112, 34, 58, 49, 51, 48, 48, 56, 49, 57, 51, 56, 48, 44, 13, 10, 32,
                         34, 104, 116, 116, 112, 58, 47, 47, 101, 120, 97, 109, 112, 108, 101, 46, 99,
                         111, 109, 47, 105, 115, 95, 114, 111, 111, 116, 34, 58, 116, 114, 117, 101, 125])


def run(swift_path):
    try:
        V = load_swift_constants(swift_path)
    except Exception as exc:  # noqa: BLE001
        print(f"FAIL  parse {swift_path}: {exc}")
        return 2
    print(f"parsed {len(V)} constants from {swift_path}\n")
    c = Checker()

    # ---------------- RFC 7520 ----------------
    payload = V["rfc7520Payload"].encode("utf-8")
    c.check("RFC 7520 s4 payload == Figure 7 bytes (U+2019 x2, ends 'to.')", lambda: eq(payload, RFC7520_FIG7))
    c.check("RFC 7520 s4 Figure 8 base64url decodes to payload",
            lambda: eq(b64u_dec(V["rfc7520PayloadBase64URL"]), payload))

    pub7520 = json.loads(V["rfc7520RSAPublicJWK"])
    priv7520 = json.loads(V["rfc7520RSAPrivateJWK"])
    c.check("RFC 7520 s3.3/3.4 public JWK == public members of private JWK",
            lambda: eq(pub7520, {k: priv7520[k] for k in ("kty", "kid", "use", "n", "e")}))
    c.check("RFC 7520 s3.3 n is 2048 bits / 256 octets", lambda: eq(len(b64u_dec(pub7520["n"])), 256))
    c.check("RFC 7520 s3.4 private key components consistent", lambda: rsa_private_from_jwk(priv7520) and True)

    def rfc7520_rs256():
        si, hdr, pl, sig = split_compact(V["rfc7520RS256Compact"])
        eq(json.loads(hdr), {"alg": "RS256", "kid": "bilbo.baggins@hobbiton.example"}, "header")
        eq(pl, payload, "payload")
        rsa_public_from_jwk(pub7520).verify(sig, si, asym_padding.PKCS1v15(), hashes.SHA256())
        resigned = rsa_private_from_jwk(priv7520).sign(si, asym_padding.PKCS1v15(), hashes.SHA256())
        return eq(resigned, sig, "re-signed RS256 signature")
    c.check("RFC 7520 s4.1.3 RS256 compact verifies and re-signs identically", rfc7520_rs256)
    c.check("RFC 7520 s4.1.3 RS256 compact verifies with joserfc",
            lambda: eq(joserfc_verify(V["rfc7520RS256Compact"], pub7520, "RS256"), payload))

    hk = json.loads(V["rfc7520HMACJWK"])

    def rfc7520_hs256():
        eq(hk["kid"], "018c0ae5-4d9b-471b-bfd6-eef314bc7037", "kid")
        si, hdr, pl, sig = split_compact(V["rfc7520HS256Compact"])
        eq(json.loads(hdr), {"alg": "HS256", "kid": "018c0ae5-4d9b-471b-bfd6-eef314bc7037"}, "header")
        eq(pl, payload, "payload")
        return eq(hmac.new(b64u_dec(hk["k"]), si, hashlib.sha256).digest(), sig, "HMAC")
    c.check("RFC 7520 s4.4.3 HS256 compact MAC recomputes", rfc7520_hs256)
    c.check("RFC 7520 s4.4.3 HS256 compact verifies with joserfc",
            lambda: eq(joserfc_verify(V["rfc7520HS256Compact"], hk, "HS256"), payload))

    # ---------------- RFC 7515 Appendix A ----------------
    p7515 = V["rfc7515Payload"].encode("utf-8")
    c.check("RFC 7515 A.1.1 payload == RFC octets (CRLF)", lambda: eq(p7515, RFC7515_PAYLOAD))

    a1k = json.loads(V["rfc7515A1HMACJWK"])

    def a1():
        si, hdr, pl, sig = split_compact(V["rfc7515A1Compact"])
        eq(hdr, b'{"typ":"JWT",\r\n "alg":"HS256"}', "header octets")
        eq(pl, p7515, "payload")
        return eq(hmac.new(b64u_dec(a1k["k"]), si, hashlib.sha256).digest(), sig, "HMAC")
    c.check("RFC 7515 A.1 HS256 compact MAC recomputes", a1)
    c.check("RFC 7515 A.1 HS256 compact verifies with joserfc",
            lambda: eq(joserfc_verify(V["rfc7515A1Compact"], a1k, "HS256"), p7515))

    a2k = json.loads(V["rfc7515A2RSAPrivateJWK"])

    def a2():
        si, hdr, pl, sig = split_compact(V["rfc7515A2Compact"])
        eq(hdr, b'{"alg":"RS256"}', "header octets")
        eq(pl, p7515, "payload")
        rsa_public_from_jwk(a2k).verify(sig, si, asym_padding.PKCS1v15(), hashes.SHA256())
        resigned = rsa_private_from_jwk(a2k).sign(si, asym_padding.PKCS1v15(), hashes.SHA256())
        return eq(resigned, sig, "re-signed RS256 signature")
    c.check("RFC 7515 A.2 RSA key consistent; RS256 verifies and re-signs identically", a2)
    c.check("RFC 7515 A.2 RS256 compact verifies with joserfc (public members only)",
            lambda: eq(joserfc_verify(V["rfc7515A2Compact"], {k: a2k[k] for k in ("kty", "n", "e")}, "RS256"),
                       p7515))

    a3k = json.loads(V["rfc7515A3ECPrivateJWK"])

    def a3():
        priv = ec.derive_private_key(b64u_int(a3k["d"]), ec.SECP256R1())
        nums = priv.public_key().public_numbers()
        eq((nums.x, nums.y), (b64u_int(a3k["x"]), b64u_int(a3k["y"])), "d*G vs (x, y)")
        si, hdr, pl, sig = split_compact(V["rfc7515A3Compact"])
        eq(hdr, b'{"alg":"ES256"}', "header octets")
        eq(pl, p7515, "payload")
        eq(len(sig), 64, "ES256 signature length")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        pub = ec.EllipticCurvePublicNumbers(nums.x, nums.y, ec.SECP256R1()).public_key()
        pub.verify(der, si, ec.ECDSA(hashes.SHA256()))
        return True
    c.check("RFC 7515 A.3 EC key consistent; ES256 compact verifies", a3)
    c.check("RFC 7515 A.3 ES256 compact verifies with joserfc (public members only)",
            lambda: eq(joserfc_verify(V["rfc7515A3Compact"], {k: a3k[k] for k in ("kty", "crv", "x", "y")},
                                      "ES256"), p7515))

    # ---------------- RFC 8037 ----------------
    edp = json.loads(V["rfc8037A1PrivateJWK"])
    edpub = json.loads(V["rfc8037A2PublicJWK"])

    def ed_keys():
        eq(edpub, {k: edp[k] for k in ("kty", "crv", "x")}, "A.2 vs public members of A.1")
        priv = ed25519.Ed25519PrivateKey.from_private_bytes(b64u_dec(edp["d"]))
        raw = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return eq(b64u_enc(raw), edp["x"], "x derived from d")
    c.check("RFC 8037 A.1/A.2 Ed25519 x derives from d", ed_keys)

    def ed_thumb():
        canon, digest = thumbprint(edpub)
        eq(canon.decode("utf-8"), V["rfc8037A3ThumbprintInput"], "thumbprint input")
        eq(digest.hex(), V["rfc8037A3ThumbprintSHA256Hex"], "SHA-256 hex")
        eq(b64u_enc(digest), V["rfc8037A3Thumbprint"], "thumbprint")
        return eq(V["rfc8037A3Thumbprint"], "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "published thumbprint")
    c.check("RFC 8037 A.3 thumbprint recomputes", ed_thumb)

    def ed_jws():
        si, hdr, pl, sig = split_compact(V["rfc8037A4Compact"])
        eq(hdr, b'{"alg":"EdDSA"}', "header octets")
        eq(pl, V["rfc8037A4Payload"].encode("utf-8"), "payload")
        ed25519.Ed25519PublicKey.from_public_bytes(b64u_dec(edpub["x"])).verify(sig, si)
        resigned = ed25519.Ed25519PrivateKey.from_private_bytes(b64u_dec(edp["d"])).sign(si)
        return eq(resigned, sig, "re-signed EdDSA signature")
    c.check("RFC 8037 A.4/A.5 EdDSA compact verifies and re-signs identically", ed_jws)
    c.check("RFC 8037 A.4 EdDSA compact verifies with joserfc",
            lambda: eq(joserfc_verify(V["rfc8037A4Compact"], edpub, "EdDSA"), b"Example of Ed25519 signing"))

    # ---------------- RFC 7638 ----------------
    r7638 = json.loads(V["rfc7638RSAJWK"])

    def r7638_thumb():
        eq(r7638["kid"], "2011-04-29", "kid")
        canon, digest = thumbprint(r7638)
        eq(canon[:15], b'{"e":"AQAB","kt', "canonical prefix")
        eq(b64u_enc(digest), V["rfc7638Thumbprint"], "thumbprint")
        return eq(V["rfc7638Thumbprint"], "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "published thumbprint")
    c.check("RFC 7638 s3.1 thumbprint recomputes", r7638_thumb)

    def r7638_joserfc():
        from joserfc.jwk import import_key
        return eq(import_key(r7638).thumbprint(), V["rfc7638Thumbprint"], "joserfc thumbprint")
    c.check("RFC 7638 s3.1 thumbprint matches joserfc", r7638_joserfc)

    # ---------------- RFC 7518 B.3 ----------------
    def b3():
        K, P, IV, A = (bytes.fromhex(V[n]) for n in
                       ("rfc7518B3KHex", "rfc7518B3PHex", "rfc7518B3IVHex", "rfc7518B3AHex"))
        eq(len(K), 64, "len K")
        eq(len(IV), 16, "len IV")
        eq(P, b"A cipher system must not be required to be secret, and it must be able to fall "
              b"into the hands of the enemy without inconvenience", "P text")
        eq(A, b"The second principle of Auguste Kerckhoffs", "A text")
        mac_key, enc_key = K[:32], K[32:]
        padder = padding.PKCS7(128).padder()
        padded = padder.update(P) + padder.finalize()
        enc = Cipher(algorithms.AES(enc_key), modes.CBC(IV)).encryptor()
        E = enc.update(padded) + enc.finalize()
        AL = (len(A) * 8).to_bytes(8, "big")
        eq(AL.hex(), V["rfc7518B3ALHex"], "AL")
        eq(E.hex(), V["rfc7518B3EHex"], "E")
        T = hmac.new(mac_key, A + IV + E + AL, hashlib.sha512).digest()[:32]
        return eq(T.hex(), V["rfc7518B3THex"], "T")
    c.check("RFC 7518 B.3 AES_256_CBC_HMAC_SHA_512 reproduces E and T", b3)

    # ---------------- JWK members (exact member lists and non-key metadata) ----------------
    def members():
        bilbo = {"kty": "RSA", "kid": "bilbo.baggins@hobbiton.example", "use": "sig", "e": "AQAB"}
        expect = {
            "rfc7520RSAPublicJWK": (["kty", "kid", "use", "n", "e"], bilbo),
            "rfc7520RSAPrivateJWK": (["kty", "kid", "use", "n", "e", "d", "p", "q", "dp", "dq", "qi"], bilbo),
            "rfc7520HMACJWK": (["kty", "kid", "use", "alg", "k"],
                               {"kty": "oct", "kid": "018c0ae5-4d9b-471b-bfd6-eef314bc7037", "use": "sig",
                                "alg": "HS256"}),
            "rfc7515A1HMACJWK": (["kty", "k"], {"kty": "oct"}),
            "rfc7515A2RSAPrivateJWK": (["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"],
                                       {"kty": "RSA", "e": "AQAB"}),
            "rfc7515A3ECPrivateJWK": (["kty", "crv", "x", "y", "d"], {"kty": "EC", "crv": "P-256"}),
            "rfc8037A1PrivateJWK": (["kty", "crv", "d", "x"], {"kty": "OKP", "crv": "Ed25519"}),
            "rfc8037A2PublicJWK": (["kty", "crv", "x"], {"kty": "OKP", "crv": "Ed25519"}),
            "rfc7638RSAJWK": (["kty", "n", "e", "alg", "kid"],
                              {"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}),
        }
        for name, (order, fixed) in expect.items():
            jwk = json.loads(V[name])
            eq(list(jwk), order, name + " member order")
            eq({k: jwk[k] for k in fixed}, fixed, name + " metadata")
        eq(sorted(n for n in V if n.endswith("JWK")), sorted(expect), "set of JWK constants")
        return True
    c.check("every JWK has exactly the RFC's members, in order, with the RFC's metadata", members)

    # ---------------- hygiene ----------------
    def hygiene():
        for name, val in V.items():
            if name.endswith("Compact"):
                eq(bool(re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", val)), True, name)
            if name.endswith("Hex"):
                eq(bool(re.fullmatch(r"(?:[0-9a-f]{2})+", val)), True, name)
            if name.endswith("JWK"):
                json.loads(val)
        return True
    c.check("all *Compact are single-line base64url, *Hex lowercase hex, *JWK valid JSON", hygiene)

    print(f"\n{c.passes} passed, {c.failures} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SWIFT))
