# An independent check of the broker's XML security with the xmlsec1 CLI (libxmlsec1 1.2, the
# library behind lasso/mellon and pysaml2): decrypt a minted response with the SP key, verify the
# assertion signature with the IdP certificate, and make sure the check can fail (a foreign
# certificate and a tampered assertion must both be refused). Sourced by tests/interop/run.

xmlsec1_check() {
    local d=$WORK/xmlsec1 pki=$ROOT/mock-broker/testdata/pki
    mkdir -p "$d"
    render "$INTEROP/xmlsec1/sp-metadata.xml.in" "$d/sp-metadata.xml" CERT="$(cert_b64 "$pki/sp.cert.pem")"
    # The stand-alone xmlsec1 tier (tests/xmlsec1/run, more algorithm cases) runs in .ci/run on
    # its own and builds the harness itself; INTEROP_XMLSEC1_TIER=1 runs it here too.
    if [ "${INTEROP_XMLSEC1_TIER:-0}" = 1 ] && [ -x "$ROOT/tests/xmlsec1/run" ]; then
        "$ROOT/tests/xmlsec1/run" >"$d/tests-xmlsec1.log" 2>&1 || { cat "$d/tests-xmlsec1.log" >&2; return 1; }
    fi
    "$HARNESS" mint --sp-metadata "$d/sp-metadata.xml" --identity anna --encryption compatible --xml \
        >"$d/minted.xml" 2>"$d/mint.log" || { cat "$d/mint.log" >&2; return 1; }
    grep -q 'EncryptedAssertion' "$d/minted.xml" || { log "xmlsec1: minted response is not encrypted"; return 1; }
    xmlsec1 --decrypt --privkey-pem "$pki/sp.key.pem" --output "$d/decrypted.xml" "$d/minted.xml" \
        >"$d/decrypt.log" 2>&1 || { cat "$d/decrypt.log" >&2; log "xmlsec1: decryption failed"; return 1; }
    grep -q 'https://data.gov.dk/model/core/eid/person/uuid/' "$d/decrypted.xml" \
        || { log "xmlsec1: decrypted assertion has no MitID NameID"; return 1; }
    local verify=(xmlsec1 --verify --id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion)
    "${verify[@]}" --pubkey-cert-pem "$pki/idp_oces3.cert.pem" "$d/decrypted.xml" >"$d/verify.log" 2>&1 \
        || { cat "$d/verify.log" >&2; log "xmlsec1: signature did not verify with the IdP certificate"; return 1; }
    # The check must be able to fail.
    if "${verify[@]}" --pubkey-cert-pem "$pki/attacker.cert.pem" "$d/decrypted.xml" >"$d/verify-attacker.log" 2>&1; then
        log "xmlsec1: the signature verified with the attacker certificate: the check cannot fail"
        return 1
    fi
    sed 's|/person/uuid/\([0-9a-f]\)|/person/uuid/f|' "$d/decrypted.xml" >"$d/tampered.xml"
    cmp -s "$d/decrypted.xml" "$d/tampered.xml" && { log "xmlsec1: tampering changed nothing"; return 1; }
    if "${verify[@]}" --pubkey-cert-pem "$pki/idp_oces3.cert.pem" "$d/tampered.xml" >"$d/verify-tampered.log" 2>&1; then
        log "xmlsec1: a tampered assertion verified"
        return 1
    fi
    # NemLog-in's default key transport (xmlenc11#rsa-oaep, MGF1-SHA256) is beyond xmlsec1 1.2:
    # recorded, not required, so the matrix notes can say which SPs need EncryptionMethod.
    "$HARNESS" mint --sp-metadata "$d/sp-metadata.xml" --identity anna --encryption nemlogin --xml >"$d/minted-nemlogin.xml" 2>>"$d/mint.log"
    if xmlsec1 --decrypt --privkey-pem "$pki/sp.key.pem" --output "$d/decrypted-nemlogin.xml" "$d/minted-nemlogin.xml" \
        >"$d/decrypt-nemlogin.log" 2>&1; then
        echo yes >"$d/nemlogin-default-decrypts"
    else
        echo no >"$d/nemlogin-default-decrypts"
    fi
    log "xmlsec1 $(xmlsec1 --version | awk '{print $2}'): decrypted and verified a minted response (compatible encryption); foreign cert and tampering refused; NemLog-in default decrypts: $(cat "$d/nemlogin-default-decrypts")"
}
