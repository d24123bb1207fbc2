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
before 2.14.0 hardened the HMAC key guard (O6; in config `default` this app, which allows only
discovery's algorithms and passes a PyJWK, never reaches that guard: tests/interop/notes.md).

Configs `pem-one-line` and `pem-cr` (O6) model the deployment the PyJWT advisories
CVE-2026-102268/-102272/-102273 describe: the RP holds the issuer's RSA public key as PEM text,
the way an operator's configuration hands it over, and passes that text to PyJWT with both RS256
and HS256 allowed:

    claims = jwt.decode(id_token, key=<PEM text>, algorithms=["RS256", "HS256"],
                        audience=CLIENT_ID, issuer=ISSUER)

The text is the SPKI PEM `cryptography` writes for the broker's published RSA key (64-column
base64, LF, a final newline) with every "\n" removed (`pem-one-line`: a key kept in an
environment variable or a one-line config value whose newlines were lost) or replaced by "\r"
(`pem-cr`): byte for byte the secrets of `oidc-forgery.key-confusion-spki-pem-one-line` and
`-spki-pem-cr`. `cryptography` loads both as RSA keys, so genuine RS256 logins work; whether an
HS256 token MACed with the same text is refused is up to PyJWT's HMAC key guard. The key is
taken once, on the first login (the broker may start after the app), from the JWKS entry named
by that token's `kid`, and kept for the life of the process, as a configured key is.
"""

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from oidc_code_flow import CLIENT_ID, CONFIG, ISSUER, TIMEOUT, jwks, make_app

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


# The configured key text (configs pem-one-line and pem-cr), set on the first login.
_pem_text = None
_PEM_NEWLINE = {"pem-one-line": "", "pem-cr": "\r"}


def configured_pem(id_token):
    global _pem_text
    if _pem_text is None:
        kid = jwt.get_unverified_header(id_token).get("kid")
        rsa = [k for k in jwks()["keys"] if k.get("kty") == "RSA"]
        jwk = next((k for k in rsa if k.get("kid") == kid), rsa[0])
        pem = RSAAlgorithm.from_jwk(jwk).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        _pem_text = pem.decode().replace("\n", _PEM_NEWLINE[CONFIG])
    return _pem_text


def verify_pem_text(id_token, m):
    return jwt.decode(
        id_token,
        key=configured_pem(id_token),
        algorithms=["RS256", "HS256"],
        audience=CLIENT_ID,
        issuer=ISSUER,
    )


if __name__ == "__main__":
    make_app("PyJWT %s" % jwt.__version__, verify_pem_text if CONFIG in _PEM_NEWLINE else verify)()
