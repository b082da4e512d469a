#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into Fuzz/Corpus/TARGET/: valid inputs (signed and sealed with the keys
the targets use, WebAuthn objects from the test fixtures) and the tricky cases the unit tests pin down.

Run it again after changing a target's keys; the files are committed, so CI and `scripts/fuzz` need only them.
Needs `cryptography` (pip) for the JWE and ES256 seeds.
"""
import base64, hashlib, hmac, json, os, pathlib, struct

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import hashes

ROOT = pathlib.Path(__file__).resolve().parent
FIXTURES = ROOT.parent / "Tests/SesameTests/Fixtures/webauthn"
HMAC_SECRET = b"sesame-fuzz-hmac-secret-0123456789abcdef"
CEK = bytes(range(32))


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write(target: str, name: str, data) -> None:
    folder = ROOT / "Corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)


def jws(header: dict, payload: bytes) -> str:
    signing_input = f"{b64u(json.dumps(header, separators=(',', ':')).encode())}.{b64u(payload)}"
    mac = hmac.new(HMAC_SECRET, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64u(mac)}"


def jwe(header: dict, plaintext: bytes) -> str:
    protected = b64u(json.dumps(header, separators=(",", ":")).encode())
    iv = bytes(range(12))
    sealed = AESGCM(CEK).encrypt(iv, plaintext, protected.encode())
    return f"{protected}..{b64u(iv)}.{b64u(sealed[:-16])}.{b64u(sealed[-16:])}"


def jose() -> None:
    claims = {"sub": "user-1", "iss": "https://sesame.example", "aud": ["app"], "exp": 1900000000, "iat": 1700000000,
              "nbf": 1700000000, "jti": "abc", "name": "Zoë", "nested": {"a": [1, 2.5, True, None, "\u00e9\\\""]}}
    header = {"alg": "HS256", "typ": "JWT", "kid": "fuzz-hs"}
    write("jws", "valid-hs256", jws(header, json.dumps(claims).encode()))
    write("jws", "valid-no-kid", jws({"alg": "HS256"}, b'{"sub":"x"}'))
    write("jws", "valid-empty-payload", jws(header, b""))
    write("jws", "valid-escaped-names", jws(header, b'{"s\\u0075b":"x","exp":1900000000}'))
    write("jws", "crit", jws({"alg": "HS256", "kid": "fuzz-hs", "crit": ["b64"], "b64": False}, b"{}"))
    write("jws", "alg-none", b64u(b'{"alg":"none"}') + "." + b64u(b"{}") + ".")
    write("jws", "alg-confusion-es256-as-hmac", jws({"alg": "ES256", "kid": "fuzz-ec"}, b"{}"))
    write("jws", "duplicate-header-member", jws({"alg": "HS256"}, b"{}").replace(
        b64u(b'{"alg":"HS256"}'), b64u(b'{"alg":"HS256","alg":"none"}')))
    write("jws", "duplicate-claim", jws(header, b'{"sub":"a","sub":"b"}'))
    write("jws", "padding", jws(header, b'{"sub":"a"}') + "=")
    write("jws", "five-segments", "a.b.c.d.e")
    write("jws", "two-segments", "a.b")
    key = ec.derive_private_key(7, ec.SECP256R1())
    signing_input = b64u(b'{"alg":"ES256","kid":"fuzz-ec"}') + "." + b64u(b"{}")
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    write("jws", "valid-es256", f"{signing_input}.{b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}")
    write("jwe", "valid-dir-a256gcm", jwe({"alg": "dir", "enc": "A256GCM", "kid": "fuzz-enc"}, json.dumps(claims).encode()))
    write("jwe", "valid-no-kid", jwe({"alg": "dir", "enc": "A256GCM"}, b"hello"))
    write("jwe", "valid-empty", jwe({"alg": "dir", "enc": "A256GCM"}, b""))
    write("jwe", "zip", jwe({"alg": "dir", "enc": "A256GCM", "zip": "DEF"}, b"x"))
    write("jwe", "cbc", jwe({"alg": "dir", "enc": "A256CBC-HS512"}, b"x"))
    write("jwe", "encrypted-key-present", jwe({"alg": "dir", "enc": "A256GCM"}, b"x").replace("..", ".AAAA.", 1))
    write("jwe", "three-segments", "a.b.c")


def json_seeds() -> None:
    cases = {
        "object": '{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-0.5e+10}',
        "escapes": '{"\\u00e9\\ud83d\\ude00":"\\n\\t\\"\\\\\\/\\b\\f\\r"}',
        "lone-surrogate": '{"a":"\\ud800"}',
        "duplicate": '{"a":1,"a":2}',
        "nested-duplicate": '{"x":{"a":1,"a":2}}',
        "escaped-duplicate": '{"a":1,"\\u0061":2}',
        "deep": "[" * 40 + "]" * 40,
        "too-deep": "[" * 200 + "]" * 200,
        "numbers": "[0,-0,1e308,1e309,123456789012345678901234567890,0.1,-1.5E-3,9007199254740993]",
        "bad-numbers": "[01,1.,.5,+1,-,1e,0x10]",
        "trailing-comma": '{"a":1,}',
        "trailing-garbage": '{"a":1} x',
        "bom": "\ufeff{}",
        "control-char": '{"a":"\x01"}',
        "empty": "",
        "scalar": '"just a string"',
        "big-int": '{"exp":18446744073709551616}',
        "claims": '{"iss":"i","sub":"s","aud":"a","exp":1900000000,"nbf":1,"iat":1.5,"jti":"j"}',
        "claims-wrong-types": '{"iss":1,"aud":[1],"exp":"soon"}',
    }
    for name, text in cases.items():
        write("json", name, text)
        write("json-scanner", name, text)
    write("json", "invalid-utf8", b'{"a":"\xc3\x28"}')
    write("json-scanner", "invalid-utf8", b'{"a":"\xc3\x28"}')
    write("json", "overlong-utf8", b'["\xc0\xaf"]')
    write("json-scanner", "overlong-utf8", b'{"\xc0\xaf":1}')


def text_seeds() -> None:
    for name, data in {
        "empty": b"", "one": b"AA", "hello": b"aGVsbG8", "all-alphabet": b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        "padding": b"aGVsbG8=", "standard-alphabet": b"a+b/", "non-canonical-bits": b"AB", "one-char": b"A",
        "whitespace": b"aGVs bG8",
    }.items():
        write("base64url", name, data)
    for name, data in {
        "simple": "sesame=abc", "host-prefix": "__Host-sesame=v1; sesame=v2", "quoted": 'sesame="quoted"',
        "spaces": "  sesame = abc ;other=1", "empty-value": "sesame=; sesame=later", "no-equals": "sesame; a=b",
        "chunks": "sesame.0=abc; sesame.1=def\nsesame.2=ghi", "chunk-gap": "sesame.0=abc; sesame.2=ghi",
        "too-many-chunks": "; ".join(f"sesame.{i}=x{i}" for i in range(10)), "duplicate": "sesame=a; sesame=b",
        "separators-only": ";;;;=;=", "tabs": "\tsesame=\tx\t", "prefix-name": "xsesame=1; sesamex=2",
    }.items():
        write("cookie", name, data)
    for name, data in {
        "simple": "a=1&b=2", "plus": "q=a+b%20c", "repeat": "a=1&a=2", "empty-pairs": "&&a=&=b&c",
        "bad-escape": "a=%zz&b=%4", "invalid-utf8-escape": "a=%c3%28&b=ok", "unicode": "name=Zo%C3%AB&x=%F0%9F%98%80",
        "equals-in-value": "a=b=c", "encoded-separators": "a=%26%3D%2B", "nul": "a=%00",
        "callback": "callbackUrl=https%3A%2F%2Fevil.example%2F&csrfToken=abc",
    }.items():
        write("form", name, data)
    for name, data in {
        "xff-chain": "127.0.0.1\n203.0.113.9, 10.0.0.1", "xff-spoof": "127.0.0.1\n1.2.3.4, 203.0.113.9",
        "untrusted-peer": "198.51.100.1\n1.2.3.4", "forwarded": '127.0.0.1\nfor=192.0.2.60;proto=http;by=203.0.113.43',
        "forwarded-v6": '::1\nFor="[2001:db8:cafe::17]:4711", for=10.1.2.3', "forwarded-port": "10.0.0.1\nfor=192.0.2.1:8080",
        "garbage": "127.0.0.1\n,,, ;for=;for=\"\nnot-an-ip", "all-trusted": "127.0.0.1\n10.0.0.2, 10.0.0.3",
        "zone": "fd00::1\nfe80::1%eth0", "v4-mapped": "::1\n::ffff:192.0.2.1",
    }.items():
        write("forwarded", name, data)


def binary_seeds() -> None:
    w3c = json.load(open(FIXTURES / "w3c-test-vectors.json"))
    py = json.load(open(FIXTURES / "py_webauthn-vectors.json"))
    objects, auth_datas, keys, client_datas = [], [], [], []
    for vector in w3c["vectors"]:
        reg = vector.get("registration", {})
        if "attestationObject" in reg:
            objects.append((vector["anchor"], bytes.fromhex(reg["attestationObject"])))
            client_datas.append((vector["anchor"] + "-create", bytes.fromhex(reg["clientDataJSON"])))
        auth = vector.get("authentication", {})
        if "authenticatorData" in auth:
            auth_datas.append((vector["anchor"], bytes.fromhex(auth["authenticatorData"])))
            client_datas.append((vector["anchor"] + "-get", bytes.fromhex(auth["clientDataJSON"])))
    for index, reg in enumerate(py["registrations"]):
        objects.append((f"py-{index}", unb64u(reg["attestationObject"])))
    for index, auth in enumerate(py["authentications"]):
        keys.append((f"py-{index}", unb64u(auth["credentialPublicKey"])))
        auth_datas.append((f"py-{index}", unb64u(auth["authenticatorData"])))
    for index, (name, data) in enumerate(objects):
        write("attestation-object", name, data)
        write("cbor", f"attestation-{name}", data)
        # The authenticator data inside (with attested credential data) and its COSE key.
        start = data.find(b"authData")
        if start >= 0:
            header = data[start + 8]
            if header == 0x58:
                length, offset = data[start + 9], start + 10
            elif header == 0x59:
                length, offset = struct.unpack(">H", data[start + 9:start + 11])[0], start + 11
            else:
                continue
            auth_data = data[offset:offset + length]
            auth_datas.append((f"attested-{name}", auth_data))
            if len(auth_data) > 55:
                id_length = struct.unpack(">H", auth_data[53:55])[0]
                keys.append((f"attested-{name}", auth_data[55 + id_length:]))
    for name, data in auth_datas:
        write("authenticator-data", name, data)
    write("authenticator-data", "short", bytes(36))
    write("authenticator-data", "flag-without-data", bytes(32) + b"\x45" + bytes(4))
    for name, data in keys:
        write("cose-key", name, data)
        write("cbor", f"cose-{name}", data)
    for name, data in client_datas:
        write("client-data", name, data)
    write("client-data", "cross-origin", b'{"type":"webauthn.get","challenge":"AAAA","origin":"https://a.example","crossOrigin":true,"topOrigin":"https://b.example"}')
    write("client-data", "bad-challenge", b'{"type":"webauthn.get","challenge":"A+/=","origin":"x"}')
    for name, data in {
        "indefinite": b"\x5f\x41a\xff", "huge-length": b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff", "tag": b"\xc1\x1a\x00\x00\x00\x01",
        "float16": b"\xf9\x3c\x00", "float": b"\xfb\x3f\xf1\x99\x99\x99\x99\x99\x9a", "undefined": b"\xf7",
        "non-minimal": b"\x18\x01", "duplicate-keys": b"\xa2\x01\x01\x01\x02", "nested": b"\x81" * 40 + b"\x00",
        "negative": b"\x3b\xff\xff\xff\xff\xff\xff\xff\xff", "text-invalid-utf8": b"\x62\xc3\x28", "trailing": b"\x00\x00",
    }.items():
        write("cbor", name, data)
    for name, data in {
        "simple": b"+OK\r\n", "error": b"-ERR wrong\r\n", "integer": b":-42\r\n", "bulk": b"$5\r\nhello\r\n",
        "null-bulk": b"$-1\r\n", "array": b"*3\r\n$3\r\nfoo\r\n:1\r\n*-1\r\n", "nested": b"*1\r\n" * 40 + b":1\r\n",
        "incomplete": b"$10\r\nabc", "pipelined": b"+OK\r\n:1\r\n$1\r\nx\r\n", "bad-length": b"$-2\r\n",
        "huge-bulk": b"$99999999999\r\n", "bare-newline": b"+OK\n", "unknown-type": b"%1\r\n", "empty-array": b"*0\r\n",
        "overflow-int": b":99999999999999999999\r\n",
    }.items():
        write("resp", name, data)


if __name__ == "__main__":
    jose()
    json_seeds()
    text_seeds()
    binary_seeds()
    for folder in sorted((ROOT / "Corpus").iterdir()):
        print(f"{folder.name}: {len(list(folder.iterdir()))} seeds")
