"""An OIDC relying party on Authlib's Flask client for the mitid-harness interop tier: one
process per row, against the row's own mock broker (Signaturgruppen-style issuer).

CONFIG=default   Authlib's Flask client quick start: register with server_metadata_url, then
                 authorize_redirect / authorize_access_token, then oauth.broker.userinfo() with
                 its `sub` required to equal the ID token's; the verified ID token claims
                 (token["userinfo"]) merged over the userinfo claims are the user
                 (Signaturgruppen's ID token is minimal: mitid.uuid is at userinfo only).
                 Authlib adds state and nonce by itself.
CONFIG=hardened  what a careful MitID team adds: PKCE S256, `idp_values=mitid`, the RFC 9207
                 `iss` authorization response parameter checked (Authlib does not), and the
                 MitID claim checks (oidc_mitid_checks.py) on the merged claims.

ID token algorithm: Authlib accepts the algorithms discovery advertises
(id_token_signing_alg_values_supported: ES256 at Signaturgruppen); nothing here narrows them.

Environment: CONFIG, PORT, ISSUER, CLIENT_ID, CLIENT_SECRET.
Routes: /login (302 to the broker), /callback (the redirect URI, GET or form_post POST),
/whoami (200 "user=<MitID UUID>" with a session, 401 without).
"""

import logging
import os
import secrets

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, request, session

from oidc_mitid_checks import mitid_problem

CONFIG = os.environ.get("CONFIG", "default")
HARDENED = CONFIG == "hardened"
PORT = int(os.environ["PORT"])
BASE = "http://127.0.0.1:%d" % PORT
ISSUER = os.environ["ISSUER"]
REDIRECT_URI = BASE + "/callback"

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("authlib-rp")

app = Flask(__name__)
app.secret_key = secrets.token_bytes(32)
oauth = OAuth(app)
client_kwargs = {"scope": "openid mitid"}
if HARDENED:
    client_kwargs["code_challenge_method"] = "S256"
# Discovery is fetched on the first login, so the broker may start after this app.
oauth.register(
    "broker",
    client_id=os.environ["CLIENT_ID"],
    client_secret=os.environ["CLIENT_SECRET"],
    server_metadata_url=ISSUER + "/.well-known/openid-configuration",
    client_kwargs=client_kwargs,
)


class Refused(Exception):
    pass


@app.route("/login")
def login():
    extra = {"idp_values": "mitid"} if HARDENED else {}
    return oauth.broker.authorize_redirect(REDIRECT_URI, **extra)


def check_iss_parameter():
    """RFC 9207: a response from this broker names it in `iss`; discovery promises it."""
    metadata = oauth.broker.load_server_metadata()
    iss = request.values.get("iss")
    if iss is None:
        if metadata.get("authorization_response_iss_parameter_supported"):
            raise Refused("authorization response without iss")
    elif iss != metadata.get("issuer"):
        raise Refused("authorization response iss %r is not the issuer" % iss)


@app.route("/callback", methods=["GET", "POST"])
def callback():
    try:
        if HARDENED:
            check_iss_parameter()
        token = oauth.broker.authorize_access_token()
        claims = token.get("userinfo")  # the ID token's claims, verified by Authlib
        if claims is None:
            raise Refused("no ID token")
        # Signaturgruppen's ID token is minimal: who logged in (mitid.uuid, dk.cpr, nemlogin.*)
        # is only at userinfo. OIDC Core 5.3.2: its `sub` must equal the ID token's, or none of
        # its values may be used (Authlib does not compare them).
        info = oauth.broker.userinfo(token=token)
        if info.get("sub") != claims.get("sub"):
            raise Refused("userinfo sub %r is not the ID token's" % info.get("sub"))
        # The ID token is the signed statement; userinfo fills in what it leaves out.
        identity = {**info, **claims}
        if HARDENED:
            why = mitid_problem(identity, info)
            if why:
                raise Refused("not a MitID login this service accepts: " + why)
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
    log.info("authlib RP (%s) on %s, issuer %s", CONFIG, BASE, ISSUER)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
