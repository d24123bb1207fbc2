"""An OIDC relying party whose ID-token check is joserfc, for the mitid-harness interop tier
(the code flow around it: oidc_code_flow.py).

CONFIG=default   the ID token checked as joserfc's documentation shows: the JWKS imported with
                 `KeySet.import_key_set`, `jwt.decode(id_token, key_set,
                 algorithms=<discovery's>)`, then a `JWTClaimsRegistry` with `iss` and `aud`
                 essential and equal to the issuer and client id, and `exp` essential.

The joserfc version comes from the venv: requirements-joserfc.txt (current),
requirements-joserfc-1.7.2.txt (CVE-2026-75509: an `iss` array passed when one element matched,
fixed in 1.7.3).
"""

from joserfc import jwt
from joserfc.jwk import KeySet

from oidc_code_flow import CLIENT_ID, ISSUER, jwks, make_app


def verify(id_token, m):
    key_set = KeySet.import_key_set(jwks())
    token = jwt.decode(
        id_token, key_set, algorithms=m.get("id_token_signing_alg_values_supported", ["RS256"])
    )
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        exp={"essential": True},
    )
    registry.validate(token.claims)
    return token.claims


if __name__ == "__main__":
    make_app("joserfc", verify)()
