#!/usr/bin/env python3
"""Write the seed corpora of the cargo-fuzz targets into fuzz/corpus/<target>/seed-*.

Seeds come from the repository's own fixtures (scenarios/*.toml, the TOML examples in
README.md and the identity docs, SP metadata under harness/testdata/inspect and
tests/interop) and from messages shaped like the ones the tests build (AuthnRequests as
`AuthnRequestBuilder::to_xml` writes them, LogoutRequests as slo.rs's tests write them,
Redirect-binding queries, OIDC forms, client assertions). One client assertion is signed for
real (RS256 with the mock `sp` key, via openssl) so the fuzzer starts past the signature check.

Deterministic: run it again and nothing changes. Usage: python3 fuzz/seed.py
"""
import base64
import hashlib
import json
import pathlib
import re
import shutil
import subprocess
import urllib.parse
import zlib

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
# Seeds above this are not worth committing; libFuzzer's -max_len is set from fuzz/run.
MAX_SEED = 16 * 1024

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
LOA = "https://data.gov.dk/concept/core/nsis/loa/"

seeds: dict[str, list[bytes]] = {}


def add(target: str, data) -> None:
    if isinstance(data, str):
        data = data.encode()
    if len(data) <= MAX_SEED:
        seeds.setdefault(target, []).append(data)


def authn_request(req_id="_req1", loa="Substantial", extra="", force=True, acs=True, refs=None):
    attrs = ' ForceAuthn="true"' if force else ""
    if acs:
        attrs += f' ProtocolBinding="{POST}" AssertionConsumerServiceURL="https://sp.example/acs"'
    refs = refs if refs is not None else [LOA + loa, "https://data.gov.dk/eid/Person"]
    rac = ""
    if refs:
        rac = '<samlp:RequestedAuthnContext Comparison="minimum">' + "".join(
            f"<saml:AuthnContextClassRef>{r}</saml:AuthnContextClassRef>" for r in refs
        ) + "</samlp:RequestedAuthnContext>"
    return (
        f'<samlp:AuthnRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{req_id}" '
        f'Version="2.0" IssueInstant="2026-01-01T12:00:00Z" Destination="http://127.0.0.1:1/sso"'
        f"{attrs}{extra}><saml:Issuer>https://saml.sp.example</saml:Issuer>{rac}</samlp:AuthnRequest>"
    )


def deflate(text: str) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(text.encode()) + c.flush()


def logout_request(extra=""):
    return (
        f'<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_lo" Version="2.0" '
        f'IssueInstant="2026-01-01T12:00:00Z"{extra}><saml:Issuer> https://sp.example </saml:Issuer>'
        "<saml:NameID>x</saml:NameID><samlp:SessionIndex>_s-1</samlp:SessionIndex></samlp:LogoutRequest>"
    )


def toml_blocks(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, re.S)


# --- SAML ---------------------------------------------------------------------------------
requests = [
    authn_request(),
    authn_request(loa="High", force=False),
    authn_request(acs=False, refs=[]),
    authn_request(extra=' IsPassive="true"', refs=["urn:dk:gov:saml:attribute:AssuranceLevel:3"]),
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]>' + authn_request(),
]
for r in requests:
    add("authn_request", r)
for r in requests[:3]:
    b64 = base64.b64encode(deflate(r)).decode()
    add("redirect_decode", "SAMLRequest=" + urllib.parse.quote(b64, safe=""))
    add("redirect_decode", urllib.parse.urlencode({
        "SAMLRequest": b64, "RelayState": "token-1",
        "SigAlg": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "Signature": base64.b64encode(b"\x00" * 256).decode(),
    }))
    add("redirect_decode", deflate(r))
    add("redirect_decode", b64)
lo = [logout_request(), logout_request(' NotOnOrAfter="2025-01-01T00:00:00Z"'),
      f'<samlp:LogoutResponse xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_r" Version="2.0" '
      'IssueInstant="2026-01-01T12:00:00Z" InResponseTo="_lo"><saml:Issuer>https://sp.example'
      '</saml:Issuer><samlp:Status><samlp:StatusCode '
      'Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>']
for x in lo:
    add("logout_request", x)
add("redirect_decode", "SAMLResponse=" + urllib.parse.quote(base64.b64encode(deflate(lo[2])).decode(), safe=""))
# The POST binding (logout only): base64 without DEFLATE, as a form body.
for x in lo:
    param = "SAMLResponse" if "LogoutResponse" in x else "SAMLRequest"
    add("saml_post", urllib.parse.urlencode({param: base64.b64encode(x.encode()).decode(), "RelayState": "r"}))
add("saml_post", "SAMLRequest=" + urllib.parse.quote(base64.b64encode(requests[0].encode()).decode(), safe=""))
add("redirect_decode", "SAMLRequest=" + urllib.parse.quote(base64.b64encode(deflate(lo[0])).decode(), safe="")
    + "&RelayState=r")

for p in sorted((ROOT / "harness/testdata/inspect").glob("*.xml")):
    add("sp_metadata", p.read_bytes())
add("sp_metadata", (ROOT / "tests/interop/xmlsec1/sp-metadata.xml.in").read_bytes())

# --- OIDC ---------------------------------------------------------------------------------
verifier = "dBjftJeZ4CVP-mJ0aN8ctEfIMhS8RU5XL7bQy0X7bz4"
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
for q in [
    "response_type=code&client_id=rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid"
    f"&state=s&nonce=n&code_challenge={challenge}&code_challenge_method=S256",
    "response_type=code&client_id=rp&scope=openid%20mitid&response_mode=form_post"
    "&idp_values=mitid_erhverv&idp_params=%7B%22mitid%22%3A%7B%22loa_value%22%3A%22high%22%7D%7D",
    "response_type=code&client_id=rp&acr_values=urn%3Agrn%3Aauthn%3Adk%3Amitid%3Abusiness"
    "&prompt=login&max_age=0&login_hint=anna",
    f"grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb"
    f"&code_verifier={verifier}&code_challenge={verifier}&code_challenge_method=plain",
    "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Axyz&client_id=rp&a=1&a=2",
]:
    add("oidc_authorize", q)


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


AUD = "http://127.0.0.1:8080/signaturgruppen/op"
NOW = 1767268800  # 2026-01-01T12:00:00Z, the fuzz target's fixed clock
claims = {"iss": "rp-jwt", "sub": "rp-jwt", "aud": AUD, "exp": NOW + 300, "iat": NOW, "jti": "seed-1"}
signing_input = b64u(json.dumps({"alg": "RS256", "kid": "rp-rsa"}).encode()) + "." + b64u(json.dumps(claims).encode())
ASSERTION_TYPE = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
key = ROOT / "mock-broker/testdata/pki/sp.key.pem"
if shutil.which("openssl") and key.exists():
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    jwt = signing_input + "." + b64u(sig)
else:
    jwt = signing_input + "." + b64u(b"\x00" * 256)
add("client_assertion", f"\ngrant_type=authorization_code&code=c&client_id=rp-jwt"
    f"&client_assertion_type={ASSERTION_TYPE}&client_assertion={jwt}")
add("client_assertion", f"\nclient_assertion_type={ASSERTION_TYPE}&client_assertion="
    + b64u(b'{"alg":"ES256"}') + "." + b64u(json.dumps(claims).encode()) + "." + b64u(b"\x01" * 64))
add("client_assertion", "Basic " + base64.b64encode(b"rp:mock-rp-secret").decode() + "\ngrant_type=authorization_code&code=c")
add("client_assertion", "\nclient_id=rp&client_secret=mock-rp-secret&code=c")
add("client_assertion", "\nclient_id=rp-public&code=c")

# Token requests that reach the code lookup, and PAR requests that pass every check.
add("client_assertion", "Basic " + base64.b64encode(b"rp:mock-rp-secret").decode()
    + "\ngrant_type=authorization_code&code=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb"
    + f"&code_verifier={verifier}")
authz = ("response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid"
         f"&state=s&nonce=n&code_challenge={challenge}&code_challenge_method=S256")
add("oidc_authorize", "client_id=rp&" + authz)
add("oidc_authorize", "client_id=rp-public&" + authz + "&acr_values=urn%3Agrn%3Aauthn%3Adk%3Amitid%3Asubstantial")
add("oidc_par", "Basic " + base64.b64encode(b"rp:mock-rp-secret").decode() + "\n" + authz)
add("oidc_par", "\nclient_id=rp&client_secret=mock-rp-secret&" + authz + "&response_mode=form_post")
add("oidc_par", "\nclient_id=rp-public&" + authz + "&idp_values=mitid_erhverv")
add("oidc_par", f"\nclient_id=rp-jwt&client_assertion_type={ASSERTION_TYPE}&client_assertion={jwt}&" + authz)
add("oidc_par", "\nclient_id=rp&client_secret=mock-rp-secret&request_uri=urn%3Ax&" + authz)

# --- TOML ---------------------------------------------------------------------------------
readme = (ROOT / "README.md").read_text()
for block in toml_blocks(readme):
    if "[[identity]]" in block:
        add("identities_toml", block)
    elif "[[scenario]]" in block:
        add("scenario_toml", block)
    elif "[[waiver]]" not in block:
        add("sp_toml", block)
ident_doc = (ROOT / "mock-broker/src/identity.rs").read_text()
for block in re.findall(r"//! ```toml\n(.*?)//! ```", ident_doc, re.S):
    add("identities_toml", re.sub(r"(?m)^//! ?", "", block))
for block in toml_blocks(readme):
    if "[[identity]]" in block:
        add("identities_toml", "replace_builtin = true\n\n" + block)
add("sp_toml", 'name = "rp"\nprotocol = "oidc"\nlogin_url = "http://127.0.0.1:1/"\n\n[oidc_client]\n'
    'client_id = "c"\nredirect_uris = ["http://127.0.0.1:1/cb"]\njwks = { keys = [] }\n')

# broker.toml: the README's examples and the tests' (a [broker] table of sp.toml has the
# same keys), plus OIDC configuration on its own.
for block in toml_blocks(readme):
    if "[[waiver]]" in block or "[[identity]]" in block or "[[scenario]]" in block:
        continue
    if "[broker]" in block:
        add("broker_toml", block.split("[broker]", 1)[1].split("\n[", 1)[0])
    if "bind" in block or "[oidc" in block or "sp_metadata" in block:
        add("broker_toml", block)
add("broker_toml", 'bind = "127.0.0.1:8390"\nbase_url = "http://127.0.0.1:8390"\nencryption = "nemlogin"\n'
    'sp_metadata = ["sp.xml", "http://127.0.0.1:8080/saml/metadata"]\nidentities = "ids.toml"\n\n'
    '[oidc]\ndev_accept_any_loopback_client = false\n\n[[oidc.clients]]\nclient_id = "rp"\n'
    'client_secret = "s"\nredirect_uris = ["http://127.0.0.1:9/cb"]\n')
add("broker_toml", '[[issuers]]\nid = "sg"\npath = "/signaturgruppen/op"\nprofile = "signaturgruppen"\n\n'
    '[[clients]]\nclient_id = "rp"\nredirect_uris = ["http://127.0.0.1:9/cb"]\nissuers = ["sg"]\n')

# The CI recipe's configuration files (docs/ci), as they are.
add("broker_toml", (ROOT / "docs/ci/broker.toml").read_bytes())
add("sp_toml", (ROOT / "docs/ci/sp.toml").read_bytes())

for p in sorted((ROOT / "scenarios").glob("*.toml")):
    text = p.read_text()
    parts = re.split(r"(?m)^(?=\[\[scenario\]\])", text)
    # One seed per scenario (the file's own scenarios stay small enough to mutate well).
    for part in parts[1:]:
        add("scenario_toml", part)

# --- write ----------------------------------------------------------------------------------
for target, items in sorted(seeds.items()):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    for data in items:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (d / name).write_bytes(data)
    print(f"{target}: {len(items)} seeds")
