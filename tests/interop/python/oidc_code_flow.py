"""The authorization code flow by hand, for the interop tier's RPs on JWT libraries (PyJWT,
joserfc) that are not OIDC clients: one Flask app per process, against the row's own mock
broker (Signaturgruppen-style issuer). The library only checks the ID token: `make_app` takes
that check as a function, so the flow around it is the same for every library.

The flow: /login sends state and nonce; /callback compares state, redeems the code with
client_secret_basic, hands the ID token to `verify(id_token, metadata)` (which returns its
claims or raises), compares the nonce, reads userinfo and requires its `sub` to equal the ID
token's (OIDC Core 5.3.2; Signaturgruppen's ID token is minimal: mitid.uuid is at userinfo
only); the ID token's claims merged over userinfo's are the user. /whoami answers
"user=<MitID UUID>" with a session, 401 without.

Environment: CONFIG, PORT, ISSUER, CLIENT_ID, CLIENT_SECRET.
"""

import logging
import os
import secrets
import urllib.parse

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


class Refused(Exception):
    pass


_metadata = None


def metadata():
    """Discovery, fetched on the first login so the broker may start after the app."""
    global _metadata
    if _metadata is None:
        r = requests.get(ISSUER + "/.well-known/openid-configuration", timeout=TIMEOUT)
        r.raise_for_status()
        _metadata = r.json()
    return _metadata


def jwks():
    """The broker's JWKS as served, fetched for each token (so key rotation needs nothing)."""
    r = requests.get(metadata()["jwks_uri"], timeout=TIMEOUT)
    r.raise_for_status()
    return r.json()


def make_app(name, verify):
    log = logging.getLogger(name)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = Flask(name)
    app.secret_key = secrets.token_bytes(32)

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
            claims = verify(id_token, m)
            if claims.get("nonce") != nonce:
                raise Refused("nonce mismatch")
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

    def run():
        log.info("%s RP (%s) on %s, issuer %s", name, CONFIG, BASE, ISSUER)
        app.run(host="127.0.0.1", port=PORT, threaded=True)

    return run
