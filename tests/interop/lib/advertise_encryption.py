#!/usr/bin/env python3
"""Add md:EncryptionMethod elements to an SP's encryption KeyDescriptor(s), in place.

NemLog-in's default key transport (xmlenc11#rsa-oaep with MGF1-SHA256) is beyond libxmlsec1
1.2 (lasso/mellon, pysaml2's xmlsec1), python3-saml's xmlsec and the Node XML-encryption
libraries. The SAML way to say so is md:EncryptionMethod in the SP metadata, which is what the
SP's operator would register; the mock broker honours it. Used only for the stacks that need it
(tests/interop/notes.md lists them), so the matrix shows which stacks need it.

Usage: advertise_encryption.py METADATA_FILE ALGORITHM_URI...
Standard library only.
"""

import re
import sys

MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, algorithms = sys.argv[1], sys.argv[2:]
    with open(path, encoding="utf-8") as f:
        xml = f.read()
    # Keep what the library already advertises; add only the algorithms it does not list.
    # (Attribute values may be quoted either way: ruby-saml's REXML writes single quotes.)
    algorithms = [a for a in algorithms if f'Algorithm="{a}"' not in xml and f"Algorithm='{a}'" not in xml]
    if not algorithms:
        return 0
    # The prefix bound to the metadata namespace (or none, for a default namespace).
    m = re.search(r'xmlns:([A-Za-z0-9_.-]+)=["\']' + re.escape(MD) + "[\"']", xml)
    prefix = (m.group(1) + ":") if m else ""
    methods = "".join(f'<{prefix}EncryptionMethod Algorithm="{a}"/>' for a in algorithms)
    closing = f"</{prefix}KeyDescriptor>"
    # Every KeyDescriptor usable for encryption: use="encryption" or no use attribute at all.
    pattern = re.compile(r"<" + re.escape(prefix) + r"KeyDescriptor\b([^>]*)>(.*?)" + re.escape(closing), re.S)
    count = 0

    def add(match):
        nonlocal count
        attrs = match.group(1)
        if re.search(r"use=[\"']signing[\"']", attrs):
            return match.group(0)
        count += 1
        return match.group(0)[: -len(closing)] + methods + closing

    xml = pattern.sub(add, xml)
    if count == 0:
        print(f"{path}: no encryption KeyDescriptor to annotate", file=sys.stderr)
        return 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(xml)
    return 0


if __name__ == "__main__":
    sys.exit(main())
