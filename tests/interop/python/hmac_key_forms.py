"""Which text forms of an RSA public key a PyJWT release takes as an HMAC secret: the
library-level check behind the `pyjwt-2.13.0/default` advisory row (tests/interop/notes.md, O6).
Not a harness row: it calls PyJWT directly, in the venv it is run with, e.g.

    tests/interop/.work/venv-pyjwt-2.13.0/bin/python tests/interop/python/hmac_key_forms.py
    tests/interop/.work/venv-pyjwt/bin/python tests/interop/python/hmac_key_forms.py

For each form it MACs an HS256 token with exactly those bytes and calls
`jwt.decode(token, key=<the same text>, algorithms=["RS256", "HS256"])`: the setting in which
the library's HMAC key guard (`HMACAlgorithm.prepare_key`) is all that stands between an RP
holding the issuer's public key as text and an HS256 forgery. It also says whether the same text
loads as an RSA key (`RSAAlgorithm.prepare_key`), i.e. whether an RP could hold its key in that
form and still log genuine RS256 users in. The names without "(not sent)" are the broker's encodings
(mock-broker `public_key_bytes`: 64-column base64, LF, a final newline, unless the name says
otherwise); the rest are PEM variants the broker does not send.
"""

import base64
import hashlib
import hmac
import json
import warnings

import jwt
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

warnings.simplefilter("ignore")


def pem(label, der, nl="\n"):
    b = base64.b64encode(der).decode()
    lines = "".join(b[i : i + 64] + nl for i in range(0, len(b), 64))
    return "-----BEGIN %s-----%s%s-----END %s-----%s" % (label, nl, lines, label, nl)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    pub = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    spki = pub.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
    pkcs1 = pub.public_bytes(ser.Encoding.DER, ser.PublicFormat.PKCS1)
    jwk = json.loads(RSAAlgorithm.to_jwk(pub))
    jwk.update(kid="k1", use="sig", alg="RS256")
    lf = pem("PUBLIC KEY", spki)
    forms = {
        "spki-pem": lf,
        "spki-pem-crlf": pem("PUBLIC KEY", spki, "\r\n"),
        "spki-pem-no-final-newline": lf.rstrip("\n"),
        "spki-pem-leading-space": " " + lf,
        "pkcs1-pem-crlf": pem("RSA PUBLIC KEY", pkcs1, "\r\n"),
        "jwk-json": json.dumps(jwk, separators=(",", ":")),
        "jwks-json": json.dumps({"keys": [jwk]}, separators=(",", ":")),
        "spki-der": spki,
        "pkcs1-der": pkcs1,
        "spki-pem-cr": pem("PUBLIC KEY", spki, "\r"),
        "(not sent) spki-pem-begin-trailing-space": lf.replace("KEY-----\n", "KEY----- \n", 1),
        "(not sent) spki-pem-begin-trailing-tab": lf.replace("KEY-----\n", "KEY-----\t\n", 1),
        "(not sent) spki-pem-space-separated": pem("PUBLIC KEY", spki, " "),
        "spki-pem-one-line": pem("PUBLIC KEY", spki, ""),
    }
    print("PyJWT %s" % jwt.__version__)
    signing_input = b64u(b'{"alg":"HS256","typ":"JWT"}') + "." + b64u(b'{"sub":"victim"}')
    for name, key in forms.items():
        kb = key if isinstance(key, bytes) else key.encode()
        mac = hmac.new(kb, signing_input.encode(), hashlib.sha256).digest()
        try:
            jwt.decode(signing_input + "." + b64u(mac), key=key, algorithms=["RS256", "HS256"])
            hs = "ACCEPTED as HMAC secret"
        except jwt.PyJWTError as e:
            hs = "refused (%s)" % type(e).__name__
        try:
            RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(key)
            rs = "loads as RSA key"
        except jwt.PyJWTError:
            rs = "not an RSA key"
        print("%-42s %-34s %s" % (name, hs, rs))


if __name__ == "__main__":
    main()
