"""An OIDC relying party whose ID-token check is jwcrypto, for the mitid-harness interop tier
(the code flow around it: oidc_code_flow.py).

The RP has registered two RSA keys with the broker (jwcrypto_keys.py makes them when the row is
prepared): `rp-sig` for private_key_jwt and `rp-enc` (`use: enc`) so that the broker may encrypt
ID tokens to it (OIDC Core 10.2). The ID token is checked as jwcrypto's documentation shows for a
JWT: one `JWKSet` holding the keys the token may need (the broker's JWKS as served and the RP's
own decryption key) and

    jwt.JWT(jwt=id_token, key=key_set,
            check_claims={"iss": ISSUER, "aud": CLIENT_ID, "exp": None})

without `algs` or `expected_type`, which the documentation marks optional.

jwcrypto before 1.4 let the token's shape decide between verifying a signature and decrypting
(CVE-2022-3102): a five-part token encrypted to the RP's public `rp-enc` key, holding a claim set
nobody signed, was decrypted with the RP's private key and its claims returned. 1.4 added
`expected_type`, which defaults to a JWS unless the caller's `algs`, the caller's header or keys
of a single `use` say otherwise. The version comes from the venv: requirements-jwcrypto.txt
(current) and requirements-jwcrypto-1.3.1.txt.

Environment: RP_KEYS (the private JWKS file), and oidc_code_flow.py's.
"""

import importlib.metadata
import json
import os

from jwcrypto import jwk, jwt

from oidc_code_flow import CLIENT_ID, ISSUER, jwks, make_app

with open(os.environ["RP_KEYS"], encoding="utf-8") as f:
    _own = jwk.JWKSet.from_json(f.read())
# The key a broker encrypts ID tokens to; the signing key stays with private_key_jwt.
_decryption_key = _own.get_key("rp-enc")


def verify(id_token, m):
    key_set = jwk.JWKSet.from_json(json.dumps(jwks()))
    key_set.add(_decryption_key)
    token = jwt.JWT(
        jwt=id_token,
        key=key_set,
        check_claims={"iss": ISSUER, "aud": CLIENT_ID, "exp": None},
    )
    return json.loads(token.claims)


if __name__ == "__main__":
    make_app("jwcrypto %s" % importlib.metadata.version("jwcrypto"), verify)()
