"""A python3-saml (OneLogin) SP (Flask) for the mitid-harness interop tier.

Settings follow python3-saml's README (strict mode, IdP from the metadata parser) with the
changes NemLog-in forces on everybody: signed Redirect-binding AuthnRequests (RSA-SHA256),
signed and encrypted assertions, no RequestedAuthnContext of its own. CONFIG=hardened adds the
MitID attribute checks (mitid_checks.py).

Environment: PORT, ROW (directory with sp.key/sp.crt), IDP_METADATA (file), CONFIG.
Routes: /login, /acs, /whoami (200 "user=<NameID>" or 401), /metadata.
"""

import os
import sys

from flask import Flask, redirect, request, session
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from mitid_checks import mitid_problem

PORT = int(os.environ["PORT"])
ROW = os.environ["ROW"]
CONFIG = os.environ.get("CONFIG", "default")
BASE = "http://127.0.0.1:%d" % PORT

with open(os.environ["IDP_METADATA"], encoding="utf-8") as f:
    IDP = OneLogin_Saml2_IdPMetadataParser.parse(f.read())
with open(ROW + "/sp.crt", encoding="utf-8") as f:
    SP_CERT = f.read()
with open(ROW + "/sp.key", encoding="utf-8") as f:
    SP_KEY = f.read()

SETTINGS = {
    "strict": True,
    "debug": False,
    "sp": {
        "entityId": BASE + "/metadata",
        "assertionConsumerService": {
            "url": BASE + "/acs",
            "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        },
        "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "x509cert": SP_CERT,
        "privateKey": SP_KEY,
    },
    "idp": IDP["idp"],
    "security": {
        "authnRequestsSigned": True,
        "wantAssertionsSigned": True,
        "wantAssertionsEncrypted": True,
        "wantMessagesSigned": False,
        "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
        # python3-saml asks for PasswordProtectedTransport by default; NemLog-in knows only NSIS LoAs.
        "requestedAuthnContext": False,
    },
}

app = Flask(__name__)
app.secret_key = os.urandom(32)


def saml_request():
    return {
        "https": "off",
        "http_host": request.host,
        "server_port": str(PORT),
        "script_name": request.path,
        "get_data": request.args.copy(),
        "post_data": request.form.copy(),
    }


@app.route("/metadata")
def metadata():
    settings = OneLogin_Saml2_Settings(SETTINGS, sp_validation_only=True)
    return settings.get_sp_metadata(), 200, {"Content-Type": "text/xml"}


@app.route("/login")
def login():
    auth = OneLogin_Saml2_Auth(saml_request(), SETTINGS)
    url = auth.login(return_to="/whoami")
    session["reqid"] = auth.get_last_request_id()
    return redirect(url)


@app.route("/acs", methods=["POST"])
def acs():
    auth = OneLogin_Saml2_Auth(saml_request(), SETTINGS)
    reqid = session.pop("reqid", None)
    if CONFIG == "hardened" and reqid is None:
        # python3-saml skips the InResponseTo check when given no request ID, which is what an
        # application passes when this browser never started a login: refuse instead.
        return "login refused: no AuthnRequest pending in this session", 403
    try:
        auth.process_response(request_id=reqid)
    except Exception as e:  # malformed input raises instead of setting errors
        app.logger.warning("login refused: %s: %s", type(e).__name__, e)
        return "login refused: %s" % type(e).__name__, 403
    if auth.get_errors() or not auth.is_authenticated():
        app.logger.warning("login refused: %s %s", auth.get_errors(), auth.get_last_error_reason())
        return "login refused: %s" % auth.get_last_error_reason(), 403
    name_id = auth.get_nameid()
    if CONFIG == "hardened":
        why = mitid_problem(name_id, auth.get_attributes())
        if why:
            app.logger.warning("login refused by the MitID checks: %s", why)
            return "login refused: " + why, 403
    session["user"] = name_id
    return redirect("/whoami")


@app.route("/whoami")
def whoami():
    if "user" not in session:
        return "not logged in", 401
    return "user=%s\n" % session["user"], 200, {"Content-Type": "text/plain"}


if __name__ == "__main__":
    print("python3-saml config", CONFIG, file=sys.stderr)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
