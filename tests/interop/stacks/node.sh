# Node SAML SPs (tests/interop/node/sp.js), one process per row; libraries installed by npm ci
# into .work/node from the committed lockfile. Sourced by tests/interop/run.

_node_pkg_version() { # package
    node -p "require('$WORK/node/node_modules/$1/package.json').version" 2>/dev/null || echo "?"
}

_node_prepare() { # rowdir config port stack
    local row=$1 config=$2 port=$3
    mkdir -p "$row/logs"
    sp_keypair "$row" "$4 $config"
    write_sp_toml "$row" "$4 ($config)" "http://127.0.0.1:$port/login" \
        "http://127.0.0.1:$port/whoami" 'user=(\S+)'
}

_node_start() { # rowdir config port stack
    local row=$1 config=$2 port=$3
    spawn "node-$4:$row" "$row/logs/app.log" env STACK="$4" CONFIG="$config" PORT="$port" ROW="$row" \
        IDP_METADATA="$IDP_METADATA" NODE_PATH="$WORK/node/node_modules" NODE_ENV=production \
        node "$INTEROP/node/sp.js"
}

_node_metadata() { # rowdir port
    curl -sf --max-time 10 "http://127.0.0.1:$2/metadata" -o "$1/sp-metadata.xml" \
        || die "cannot fetch SP metadata from 127.0.0.1:$2"
    # The library's XML encryption cannot do NemLog-in's default key transport (rsa-oaep with
    # MGF1-SHA256): the registered metadata says what it can decrypt.
    advertise_compatible_encryption "$1/sp-metadata.xml"
}

for _s in node-saml node-saml-5.0.1 passport-saml passport-saml-2.0.5 passport-saml-3.2.1 passport-saml-3.2.1-xml-crypto-1.5.3 passport-wsfed-saml2-4.6.1 samlify samlify-no-xsd; do
    eval "
${_s}_prepare() { _node_prepare \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_start() { _node_start \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_ready_url() { echo \"http://127.0.0.1:\$3/metadata\"; }
${_s}_metadata() { _node_metadata \"\$1\" \"\$3\"; }
"
done
unset _s
node-saml_version() { _node_pkg_version @node-saml/node-saml; }
node-saml-5.0.1_version() { _node_pkg_version node-saml-5.0.1; }
# An advisory row (tests/interop/notes.md, "Advisory rows"): node-saml 5.0.1 resolved the
# Reference URI to the first element with that ID and read the identity elsewhere
# (CVE-2025-54419, fixed in 5.1.0 by rejecting duplicate IDs), so it runs the scenarios that send
# an evil assertion under the signed one's own ID, and one plain login as the control that the
# row logs in at all.
# CVE-2025-54369 (its duplicate) names no construct; the S8 DOCTYPE and entity scenarios send
# the plausible ones (content the verifier normalises away before the reader sees it).
# The S15 scenarios send the other plausible construct, a processing instruction inside the signed
# NameID or the CPR attribute value (parser.pi-in-*).
node-saml-5.0.1_scenarios() {
    printf '%s\n' mitid.person-substantial 'xsw.duplicate-id*' 'parser.doctype*' 'parser.entity*' 'parser.pi-in-*'
}
passport-saml_version() { _node_pkg_version @node-saml/passport-saml; }
passport-saml-3.2.1_version() { _node_pkg_version passport-saml; }
# An advisory row: passport-saml 2.0.5 is the last release on xmldom 0.4.x (0.4.0), which
# accepted a duplicated attribute and did not keep an element's namespace across parse ->
# serialise -> parse (CVE-2021-21366 / GHSA-h6q6-9hqw-rwfv, fixed in xmldom 0.5.0; passport-saml
# 2.0.6 moved to it). It verifies the decrypted assertion's first xmldom parse and reads its
# `.toString()` again with xml2js. xml-crypto is pinned to 2.0.0 (xmldom 0.1.27), the last
# xml-crypto before its own xmldom 0.5.0 bump (2.1.0; `^2.0.0` resolves to 2.1.6 today);
# xml-encryption 1.2.1 brings xmldom 0.1.31. tests/interop/notes.md ("Advisory rows") says what the row measures.
passport-saml-2.0.5_version() {
    echo "passport-saml $(_node_pkg_version passport-saml-2.0.5), xmldom $(_node_pkg_version passport-saml-2.0.5/node_modules/xmldom), xml-crypto $(_node_pkg_version passport-saml-2.0.5/node_modules/xml-crypto)"
}
passport-saml-2.0.5_scenarios() {
    printf '%s\n' mitid.person-substantial parser.roundtrip-xmldom-namespace parser.duplicate-attribute
}
# An advisory row: xml-crypto <= 1.5.3 took the SignatureMethod from the document and used one
# key variable for RSA and HMAC, so an `hmac-sha1` signature MACed with the IdP's public
# certificate verified (GHSA-c27r-x354-4m68, fixed in 2.0.0). passport-saml 3.2.1 hands
# xml-crypto the certificate as PEM (`getKey: () => Buffer.from(certPem)`), the key the
# `signature.hmac-*` scenarios MAC with in their PEM forms. The row is the passport-saml 3.2.1
# app on xml-crypto 1.5.3 (npm alias plus a scoped override in package.json); the current
# passport-saml row runs the same scenarios in the whole catalogue.
passport-saml-3.2.1-xml-crypto-1.5.3_version() {
    echo "passport-saml $(_node_pkg_version passport-saml-3.2.1-xml-crypto-1.5.3), xml-crypto $(_node_pkg_version passport-saml-3.2.1-xml-crypto-1.5.3/node_modules/xml-crypto)"
}
passport-saml-3.2.1-xml-crypto-1.5.3_scenarios() { printf '%s\n' mitid.person-substantial 'signature.hmac*'; }
# An advisory row: passport-wsfed-saml2 3.0.5-4.6.3 read the profile (NameID, attributes) with
# descendant-axis XPath from the signed assertion, so a Subject or AttributeStatement smuggled
# into the assertion's own ds:Signature (the subtree the enveloped-signature transform leaves out
# of the digest) was read first (CVE-2025-46573 / GHSA-8gqj-226h-gm8r, fixed in 4.6.4 by commit
# e5cf3cc2). 4.6.1 is the newest release on the npm registry here, so the matrix has no current
# row of this library; the fixed 4.6.4 cannot be shown PASSing. Its xml-crypto dependency is a
# git URL (auth0/xml-crypto#v1.4.1-auth0.2) npm cannot fetch here: a scoped override takes
# xml-crypto 1.4.1 from the registry (the release the fork is based on; the smuggling is in
# passport-wsfed-saml2's own reader, not in the signature check).
passport-wsfed-saml2-4.6.1_version() {
    echo "passport-wsfed-saml2 $(_node_pkg_version passport-wsfed-saml2-4.6.1), xml-crypto $(_node_pkg_version passport-wsfed-saml2-4.6.1/node_modules/xml-crypto)"
}
# It also runs every wrapping scenario: 4.6.1 predates the fix of CVE-2025-46572 (signature wrapping
# with any IdP-signed document, GHSA-wjmp-wphq-jvqf, fixed in 4.6.4), and the entity-reference ID
# scenarios, whose signature-in-evil step is the same nested wrapping inside a DTD.
passport-wsfed-saml2-4.6.1_scenarios() { printf '%s\n' mitid.person-substantial 'xsw.*' 'parser.entity-ref-id*'; }
samlify_version() { _node_pkg_version samlify; }
# An advisory row: samlify <= 2.13.1 verifies a LogoutRequest by any signature on an Assertion
# child of the request (`/*[contains(local-name(),'Request')]/*[local-name()='Assertion']/
# *[local-name()='Signature']`), never asking whether it covers the LogoutRequest
# (GHSA-63ch-w8pw-4mf2, samlify issue #634; no fixed release). The samlify rows, with the
# schema validator samlify's README recommends, refuse that construct as schema-invalid (a
# LogoutRequest has no Assertion child) before the signature check; this row is the same app
# with the README's other documented choice, a validator that skips, and runs the S12
# scenarios, a genuine IdP-initiated logout and an unsigned one as controls.
samlify-no-xsd_version() { _node_pkg_version samlify; }
samlify-no-xsd_scenarios() {
    printf '%s\n' mitid.person-substantial 'slo.wrapped-signed-assertion*' slo.idp-initiated-post slo.unsigned-post
}

# samlify's recommended pure-JS validator (node-xmllint, an Emscripten build of xmllint) is not
# safe for concurrent use: with two logins in flight one validation can hang until the harness
# times out (INCONCLUSIVE). One scenario at a time keeps the samlify verdicts deterministic.
samlify_concurrency() { echo 1; }
