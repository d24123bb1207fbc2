"""A pysaml2 SP (Flask) for the mitid-harness interop tier.

Configured the way pysaml2's docs set up an SP, with the changes NemLog-in forces on everybody
(signed Redirect-binding AuthnRequests with RSA-SHA256, an unsigned Response around a signed
and encrypted Assertion). CONFIG=hardened adds the MitID attribute checks (mitid_checks.py).
CONFIG=oiosaml4 is the default setup speaking OIOSAML 4.0 (IDP_METADATA is then the broker's
4.0 metadata): RequestedAttributeProfiles go into the AuthnRequest through the `extensions`
argument of prepare_for_authenticate/create_authn_request, the 4.0 LoA through
`requested_authn_context`, both pysaml2's documented API.

Environment: PORT, ROW (directory with sp.key/sp.crt), IDP_METADATA (file), CONFIG.
Routes: /login (start), /acs (HTTP-POST), /whoami (oracle: 200 "user=<NameID>" or 401),
/metadata (the SP metadata registered with the broker).
"""

import os
import sys

from flask import Flask, redirect, request, session
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, ExtensionElement
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AuthnContextClassRef
from saml2.samlp import Extensions, RequestedAuthnContext
from saml2.xmldsig import SIG_RSA_SHA256

from mitid_checks import mitid_problem

PORT = int(os.environ["PORT"])
ROW = os.environ["ROW"]
CONFIG = os.environ.get("CONFIG", "default")
BASE = "http://127.0.0.1:%d" % PORT

conf = SPConfig()
conf.load(
    {
        "entityid": BASE + "/metadata",
        "xmlsec_binary": "/usr/bin/xmlsec1",
        # NemLog-in's attributes are URIs with no pysaml2 attribute map: keep them as they are.
        "allow_unknown_attributes": True,
        "key_file": ROW + "/sp.key",
        "cert_file": ROW + "/sp.crt",
        "encryption_keypairs": [{"key_file": ROW + "/sp.key", "cert_file": ROW + "/sp.crt"}],
        "metadata": {"local": [os.environ["IDP_METADATA"]]},
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(BASE + "/acs", BINDING_HTTP_POST)]},
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                # NemLog-in does not sign the Response ("SHOULD NOT"); pysaml2 wants it by default.
                "want_response_signed": False,
                "allow_unsolicited": False,
                "signing_algorithm": SIG_RSA_SHA256,
            }
        },
    }
)
client = Saml2Client(conf)

# OIOSAML 4.0: what a public, person-only service requests (every person profile) and the LoA.
OIO4_NS = "https://data.gov.dk/eid/saml/extensions"
OIO4_PROFILES = [
    "https://data.gov.dk/eid/Person/DK",
    "https://data.gov.dk/eid/Person/DK/WithoutCPR",
    "https://data.gov.dk/eid/Person/DK/Anonymous",
    "https://data.gov.dk/eid/Person/EU",
]
OIO4_LOA = "https://data.gov.dk/concept/core/loa/Substantial"


def oiosaml4_request_args():
    if CONFIG != "oiosaml4":
        return {}
    profiles = ExtensionElement(
        "RequestedAttributeProfiles",
        namespace=OIO4_NS,
        children=[ExtensionElement("Profile", namespace=OIO4_NS, text=p) for p in OIO4_PROFILES],
    )
    return {
        "extensions": Extensions(extension_elements=[profiles]),
        "requested_authn_context": RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(OIO4_LOA)], comparison="minimum"
        ),
    }

app = Flask(__name__)
app.secret_key = os.urandom(32)


@app.route("/metadata")
def metadata():
    return create_metadata_string(None, conf, valid=4), 200, {"Content-Type": "text/xml"}


@app.route("/login")
def login():
    reqid, info = client.prepare_for_authenticate(
        relay_state="/whoami",
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        **oiosaml4_request_args(),
    )
    session["reqid"] = reqid
    return redirect(dict(info["headers"])["Location"])


@app.route("/acs", methods=["POST"])
def acs():
    outstanding = {}
    reqid = session.pop("reqid", None)
    if reqid:
        outstanding[reqid] = "/whoami"
    try:
        resp = client.parse_authn_request_response(
            request.form["SAMLResponse"], BINDING_HTTP_POST, outstanding=outstanding
        )
        if resp is None:
            return "login refused: no response", 403
        name_id = resp.get_subject().text
        identity = resp.get_identity()
    except Exception as e:  # every library error is a refused login
        app.logger.warning("login refused: %s: %s", type(e).__name__, e)
        return "login refused: %s" % type(e).__name__, 403
    if CONFIG == "hardened":
        why = mitid_problem(name_id, identity)
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
    import saml2

    print("pysaml2", getattr(saml2, "__version__", "?"), "config", CONFIG, file=sys.stderr)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
