"""An OIDC relying party whose ID-token check is PyJWT, for the mitid-harness interop tier
(the code flow around it: oidc_code_flow.py).

The ID token is checked the way the PyJWT documentation's OIDC example does:

    signing_key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key=signing_key, algorithms=<discovery's
                        id_token_signing_alg_values_supported>, audience=CLIENT_ID,
                        issuer=ISSUER)

`issuer` is given as a string, which is what the parameter is documented as and what every
application writes. The PyJWT version comes from the venv (requirements-pyjwt*.txt), so the same
app runs the current release and the advisory row PyJWT 2.10.0, whose `_validate_iss` tested a
string issuer with `in` (CVE-2024-53861, fixed in 2.10.1), and PyJWT 2.13.0, the last release
before 2.14.0 hardened the HMAC key guard (O6; this app, which allows only discovery's
algorithms and passes a PyJWK, never reaches that guard: tests/interop/notes.md).
"""

import jwt

from oidc_code_flow import CLIENT_ID, ISSUER, TIMEOUT, make_app

# One client for the process, as the documentation has it: it caches the JWKS.
_jwks_client = None


def verify(id_token, m):
    global _jwks_client
    if _jwks_client is None:
        _jwks_client = jwt.PyJWKClient(m["jwks_uri"], timeout=TIMEOUT)
    signing_key = _jwks_client.get_signing_key_from_jwt(id_token)
    return jwt.decode(
        id_token,
        key=signing_key,
        algorithms=m.get("id_token_signing_alg_values_supported", ["RS256"]),
        audience=CLIENT_ID,
        issuer=ISSUER,
    )


if __name__ == "__main__":
    make_app("PyJWT %s" % jwt.__version__, verify)()
