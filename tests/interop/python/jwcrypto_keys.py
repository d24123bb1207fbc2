"""The jwcrypto RP's own key pair, made once per row (mock keys for this tier only): writes the
private JWKS (`rp-sig`, `rp-enc`) to the file given and prints the public JWKS as the TOML line
`jwks = {...}` for sp.toml's [oidc_client] table (TOML inline tables; JSON is not TOML)."""

import json
import os
import sys

from jwcrypto import jwk


def toml(value):
    if isinstance(value, dict):
        return "{ " + ", ".join("%s = %s" % (k, toml(v)) for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return json.dumps(value)


def main(path):
    if not os.path.exists(path):
        keys = jwk.JWKSet()
        keys.add(jwk.JWK.generate(kty="RSA", size=2048, kid="rp-sig", use="sig"))
        keys.add(jwk.JWK.generate(kty="RSA", size=2048, kid="rp-enc", use="enc"))
        with open(path, "w", encoding="utf-8") as f:
            f.write(keys.export(private_keys=True))
    with open(path, encoding="utf-8") as f:
        keys = jwk.JWKSet.from_json(f.read())
    public = json.loads(keys.export(private_keys=False))
    public["keys"].sort(key=lambda k: k["kid"])
    print("jwks = " + toml(public))


if __name__ == "__main__":
    main(sys.argv[1])
