#!/usr/bin/env python3
"""TOTP codes and otpauth URIs by pyotp, an implementation independent of Sesame's, for its Swift tests.

Reads ONE JSON object from stdin: {"secret": base32, "digits": int, "period": int, "times": [unix seconds...],
"uri": str}. Writes ONE JSON object: {"codes": [code at each time...], "uri": {"secret", "issuer", "name",
"digits", "period", "digest"} as pyotp parses the URI}.
"""
import json
import sys

import pyotp

request = json.load(sys.stdin)
totp = pyotp.TOTP(request["secret"], digits=request["digits"], interval=request["period"])
codes = [totp.at(t) for t in request["times"]]
parsed = pyotp.parse_uri(request["uri"])
json.dump({
    "codes": codes,
    "uri": {"secret": parsed.secret, "issuer": parsed.issuer, "name": parsed.name, "digits": parsed.digits,
            "period": parsed.interval, "digest": parsed.digest().name},
}, sys.stdout)
