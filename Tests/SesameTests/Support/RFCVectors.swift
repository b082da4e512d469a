// RFCVectors.swift
//
// Published JOSE test vectors, transcribed byte-for-byte from the RFCs named on
// each constant. Line-wrapped values in the RFC text have been joined (the RFCs
// state that the wrapping whitespace is not part of the value). JSON keys are
// given with insignificant whitespace only; member values are exact.
//
// Every vector here is checked by Tests/Interop/verify_rfc_vectors.py, which reads
// the constants back out of this file: JWS signatures verify with their keys,
// deterministic signatures (RS256, HS256, EdDSA) re-sign to the same bytes,
// private key components are mutually consistent, thumbprints recompute, and the
// RFC 7518 B.3 AES_256_CBC_HMAC_SHA_512 vector reproduces E and T.

enum RFCVectors {

    // MARK: - RFC 7520 (JOSE Cookbook)

    /// RFC 7520 section 4, Figure 7: the JWS payload shared by all section 4 examples.
    /// UTF-8; the two apostrophes are U+2019 RIGHT SINGLE QUOTATION MARK (`\u{2019}`),
    /// the others are ASCII U+0027; ends with a period and no newline.
    static let rfc7520Payload = "It\u{2019}s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u{2019}s no knowing where you might be swept off to."

    /// RFC 7520 section 4, Figure 8: `rfc7520Payload` base64url-encoded.
    static let rfc7520PayloadBase64URL = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"

    /// RFC 7520 section 3.3, Figure 3: RSA 2048-bit public key ("bilbo.baggins@hobbiton.example").
    static let rfc7520RSAPublicJWK = #"""
        {
          "kty": "RSA",
          "kid": "bilbo.baggins@hobbiton.example",
          "use": "sig",
          "n": "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw",
          "e": "AQAB"
        }
        """#

    /// RFC 7520 section 3.4, Figure 4: RSA 2048-bit private key ("bilbo.baggins@hobbiton.example").
    static let rfc7520RSAPrivateJWK = #"""
        {
          "kty": "RSA",
          "kid": "bilbo.baggins@hobbiton.example",
          "use": "sig",
          "n": "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw",
          "e": "AQAB",
          "d": "bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J3XTGgdrhCku9gRldY7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYwkHTMEzLYGqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDjd18kKhyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOcOpBrQzwQ",
          "p": "3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k",
          "q": "uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8lHTeZu2lmKvwqW7anV5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0s7pFc",
          "dp": "B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pbt26gljYfKU_E9xn-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX59ehik",
          "dq": "CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pErAMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6og5iTbwQGIC3gnJKbi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdKT1cYF8",
          "qi": "3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-NZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8VfBdYkssbu0NKDDhjJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpPz8aaI4"
        }
        """#

    /// RFC 7520 section 4.1.3, Figure 13: RS256 JWS Compact Serialization of `rfc7520Payload`,
    /// signed with `rfc7520RSAPrivateJWK` (protected header {"alg":"RS256","kid":"bilbo.baggins@hobbiton.example"}).
    static let rfc7520RS256Compact = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"

    /// RFC 7520 section 3.5, Figure 5: HMAC SHA-256 symmetric key (kid 018c0ae5-4d9b-471b-bfd6-eef314bc7037).
    static let rfc7520HMACJWK = #"""
        {
          "kty": "oct",
          "kid": "018c0ae5-4d9b-471b-bfd6-eef314bc7037",
          "use": "sig",
          "alg": "HS256",
          "k": "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"
        }
        """#

    /// RFC 7520 section 4.4.3, Figure 34: HS256 JWS Compact Serialization of `rfc7520Payload`,
    /// MACed with `rfc7520HMACJWK` (protected header {"alg":"HS256","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037"}).
    static let rfc7520HS256Compact = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"

    // MARK: - RFC 7515 Appendix A (JWS examples)

    /// RFC 7515 Appendix A.1.1 (also A.2.1, A.3.1): the JWS Payload, a JWT Claims Set containing
    /// CRLF (`\r\n`) line breaks followed by a space. No trailing newline.
    static let rfc7515Payload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"

    /// RFC 7515 Appendix A.1.1: HMAC SHA-256 key.
    static let rfc7515A1HMACJWK = #"""
        {"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}
        """#

    /// RFC 7515 Appendix A.1.1: HS256 JWS Compact Serialization. The protected header is
    /// {"typ":"JWT",CRLF "alg":"HS256"} (it contains a CRLF, hence the `LA0KICJ` run).
    static let rfc7515A1Compact = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    /// RFC 7515 Appendix A.2.1: RSA 2048-bit private key (includes the public members n, e).
    static let rfc7515A2RSAPrivateJWK = #"""
        {"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB","d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ","p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc","q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc","dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0","dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU","qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"}
        """#

    /// RFC 7515 Appendix A.2.1: RS256 JWS Compact Serialization (protected header {"alg":"RS256"}).
    static let rfc7515A2Compact = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

    /// RFC 7515 Appendix A.3.1: EC P-256 private key (includes the public members x, y).
    static let rfc7515A3ECPrivateJWK = #"""
        {"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
        """#

    /// RFC 7515 Appendix A.3.1: ES256 JWS Compact Serialization (protected header {"alg":"ES256"}).
    /// ECDSA is randomized: verify this, don't expect to reproduce it by signing.
    static let rfc7515A3Compact = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

    // MARK: - RFC 8037 Appendix A (Ed25519 / EdDSA)

    /// RFC 8037 Appendix A.1: Ed25519 private key.
    static let rfc8037A1PrivateJWK = #"""
        {"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        """#

    /// RFC 8037 Appendix A.2: Ed25519 public key (public half of `rfc8037A1PrivateJWK`).
    static let rfc8037A2PublicJWK = #"""
        {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        """#

    /// RFC 8037 Appendix A.3: the JWK thumbprint hash input (RFC 7638 canonical form) of `rfc8037A2PublicJWK`.
    static let rfc8037A3ThumbprintInput = #"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#

    /// RFC 8037 Appendix A.3: SHA-256 of `rfc8037A3ThumbprintInput`, hex.
    static let rfc8037A3ThumbprintSHA256Hex = "90facafea9b1556698540f70c0117a22ea37bd5cf3ed3c47093c1707282b4b89"

    /// RFC 8037 Appendix A.3: the SHA-256 JWK thumbprint of `rfc8037A2PublicJWK`, base64url.
    static let rfc8037A3Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

    /// RFC 8037 Appendix A.4: the JWS Payload that is signed.
    static let rfc8037A4Payload = "Example of Ed25519 signing"

    /// RFC 8037 Appendix A.4: EdDSA JWS Compact Serialization of `rfc8037A4Payload` signed with
    /// `rfc8037A1PrivateJWK` (protected header {"alg":"EdDSA"}). Ed25519 is deterministic, so
    /// signing must reproduce this exactly (A.5 verifies it with `rfc8037A2PublicJWK`).
    static let rfc8037A4Compact = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

    // MARK: - RFC 7638 section 3.1 (JWK Thumbprint)

    /// RFC 7638 section 3.1: example RSA public key (kid "2011-04-29"). The thumbprint covers only e, kty, n.
    static let rfc7638RSAJWK = #"""
        {
          "kty": "RSA",
          "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
          "e": "AQAB",
          "alg": "RS256",
          "kid": "2011-04-29"
        }
        """#

    /// RFC 7638 section 3.1: SHA-256 JWK thumbprint of `rfc7638RSAJWK`, base64url.
    static let rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

    // MARK: - RFC 7518 Appendix B.3 (AES_256_CBC_HMAC_SHA_512), lowercase hex, no spaces

    /// RFC 7518 Appendix B.3: K (64 octets). MAC_KEY = first 32 octets, ENC_KEY = last 32 octets.
    static let rfc7518B3KHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"

    /// RFC 7518 Appendix B.3: P, the plaintext (ASCII "A cipher system must not be required to be
    /// secret, and it must be able to fall into the hands of the enemy without inconvenience").
    static let rfc7518B3PHex = "41206369706865722073797374656d206d757374206e6f7420626520726571756972656420746f206265207365637265742c20616e64206974206d7573742062652061626c6520746f2066616c6c20696e746f207468652068616e6473206f662074686520656e656d7920776974686f757420696e636f6e76656e69656e6365"

    /// RFC 7518 Appendix B.3: IV (16 octets).
    static let rfc7518B3IVHex = "1af38c2dc2b96ffdd86694092341bc04"

    /// RFC 7518 Appendix B.3: A, the associated data (ASCII "The second principle of Auguste Kerckhoffs").
    static let rfc7518B3AHex = "546865207365636f6e64207072696e6369706c65206f662041756775737465204b6572636b686f666673"

    /// RFC 7518 Appendix B.3: AL, the 64-bit big-endian bit length of A (42 octets = 336 bits).
    static let rfc7518B3ALHex = "0000000000000150"

    /// RFC 7518 Appendix B.3: E, the expected ciphertext (AES-256-CBC of P under ENC_KEY with PKCS #7 padding; IV not included).
    static let rfc7518B3EHex = "4affaaadb78c31c5da4b1b590d10ffbd3dd8d5d302423526912da037ecbcc7bd822c301dd67c373bccb584ad3e9279c2e6d12a1374b77f077553df829410446b36ebd97066296ae6427ea75c2e0846a11a09ccf5370dc80bfecbad28c73f09b3a3b75e662a2594410ae496b2e2e6609e31e6e02cc837f053d21f37ff4f51950bbe2638d09dd7a4930930806d0703b1f6"

    /// RFC 7518 Appendix B.3: T, the expected authentication tag (first 32 octets of HMAC-SHA-512(MAC_KEY, A || IV || E || AL)).
    static let rfc7518B3THex = "4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5"

    // MARK: - dir + A256GCM JWE

    // No RFC publishes a `dir` + `A256GCM` JWE example. The only `dir` example in the JOSE
    // RFCs is RFC 7520 section 5.6 ("Direct Encryption Using AES-GCM"), which uses A128GCM
    // with a 128-bit key (kid 77c7e2b8-6e13-45cf-8672-617b5b45243a), so it is not included.
    // (RFC 7516 Appendix A.1 and RFC 7520 section 5.2 use A256GCM content encryption, but
    // with RSA-OAEP key management, not `dir`.)
}
