"""An OIDC relying party whose ID-token check is PyJWT, for the mitid-harness interop tier: one
process per row, against the row's own mock broker (Signaturgruppen-style issuer).

There is no PyJWT "client integration": the app does the authorization code flow itself with
`requests`, the way the PyJWT documentation's OIDC example does, and hands the ID token to
PyJWT:

    signing_key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key=signing_key, algorithms=<discovery's
                        id_token_signing_alg_values_supported>, audience=CLIENT_ID,
                        issuer=ISSUER)

`issuer` is given as a string, which is what the parameter is documented as and what every
application writes. The PyJWT version comes from the venv (requirements-pyjwt*.txt), so the same
app runs the current release and the advisory row PyJWT 2.10.0, whose `_validate_iss` tested a
string issuer with `in` (CVE-2024-53861, fixed in 2.10.1).

CONFIG=default   the flow above with state and nonce (the nonce compared after PyJWT's checks),
                 client_secret_basic at the token endpoint, then userinfo with its `sub`
                 required to equal the ID token's; the verified ID token claims merged over the
                 userinfo claims are the user (Signaturgruppen's ID token is minimal: mitid.uuid
                 is at userinfo only).

Environment: CONFIG, PORT, ISSUER, CLIENT_ID, CLIENT_SECRET.
Routes: /login (302 to the broker), /callback (the redirect URI), /whoami (200
"user=<MitID UUID>" with a session, 401 without).
"""

import logging
import os
import secrets
import urllib.parse

import jwt
import requests
from flask import Flask, redirect, request, session

CONFIG = os.environ.get("CONFIG", "default")
PORT = int(os.environ["PORT"])
BASE = "http://127.0.0.1:%d" % PORT
ISSUER = os.environ["ISSUER"]
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
REDIRECT_URI = BASE + "/callback"
TIMEOUT = 20

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("pyjwt-rp")

app = Flask(__name__)
app.secret_key = secrets.token_bytes(32)

_metadata = None
_jwks_client = None


def metadata():
    """Discovery, fetched on the first login so the broker may start after this app."""
    global _metadata, _jwks_client
    if _metadata is None:
        r = requests.get(ISSUER + "/.well-known/openid-configuration", timeout=TIMEOUT)
        r.raise_for_status()
        _metadata = r.json()
        _jwks_client = jwt.PyJWKClient(_metadata["jwks_uri"], timeout=TIMEOUT)
    return _metadata


class Refused(Exception):
    pass


@app.route("/login")
def login():
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    session["state"], session["nonce"] = state, nonce
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid mitid",
            "state": state,
            "nonce": nonce,
        }
    )
    return redirect(metadata()["authorization_endpoint"] + "?" + query)


@app.route("/callback", methods=["GET", "POST"])
def callback():
    try:
        m = metadata()
        state = session.pop("state", None)
        nonce = session.pop("nonce", None)
        if "error" in request.values:
            raise Refused("authorization error %s" % request.values["error"])
        if not state or request.values.get("state") != state:
            raise Refused("state mismatch")
        r = requests.post(
            m["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": request.values.get("code", ""),
                "redirect_uri": REDIRECT_URI,
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=TIMEOUT,
        )
        if r.status_code != 200:
            raise Refused("token endpoint answered %d" % r.status_code)
        token = r.json()
        id_token = token.get("id_token")
        if not id_token:
            raise Refused("no ID token")
        signing_key = _jwks_client.get_signing_key_from_jwt(id_token)
        claims = jwt.decode(
            id_token,
            key=signing_key,
            algorithms=m.get("id_token_signing_alg_values_supported", ["RS256"]),
            audience=CLIENT_ID,
            issuer=ISSUER,
        )
        if claims.get("nonce") != nonce:
            raise Refused("nonce mismatch")
        # Signaturgruppen's ID token is minimal: who logged in is only at userinfo. OIDC Core
        # 5.3.2: its `sub` must equal the ID token's, or none of its values may be used.
        u = requests.get(
            m["userinfo_endpoint"],
            headers={"Authorization": "Bearer " + token.get("access_token", "")},
            timeout=TIMEOUT,
        )
        if u.status_code != 200:
            raise Refused("userinfo answered %d" % u.status_code)
        info = u.json()
        if info.get("sub") != claims.get("sub"):
            raise Refused("userinfo sub %r is not the ID token's" % info.get("sub"))
        identity = {**info, **claims}
    except Exception as e:  # noqa: BLE001 - every refusal is the same to the browser
        log.warning("login refused: %s: %s", type(e).__name__, e)
        return "login refused: %s\n" % e, 401, {"Content-Type": "text/plain"}
    session["user"] = identity
    return redirect("/whoami")


@app.route("/whoami")
def whoami():
    user = session.get("user")
    if not user:
        return "not logged in\n", 401, {"Content-Type": "text/plain"}
    uid = user.get("mitid.uuid") or "(session-without-mitid.uuid)"
    return "user=%s\nsub=%s\n" % (uid, user.get("sub")), 200, {"Content-Type": "text/plain"}


if __name__ == "__main__":
    log.info("PyJWT %s RP (%s) on %s, issuer %s", jwt.__version__, CONFIG, BASE, ISSUER)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
