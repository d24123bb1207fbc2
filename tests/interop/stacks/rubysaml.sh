# ruby-saml SP (tests/interop/ruby/rubysaml_sp.rb, WEBrick), one process per row. The library is
# Debian's package (ruby-saml 1.13.0-1+deb12u1, with Nokogiri 1.13.10), installed by apt:
# RubyGems is not reachable from this tier, so neither the current release (1.18.x) nor the other
# vulnerable versions the advisories name can be installed. Sourced by tests/interop/run.

# A row of a vulnerable release, as pysaml2-6.4.1 and passport-saml-3.2.1 are: it runs the whole
# catalogue (it is also the ruby-saml a Debian 12 user gets). Debian's package is upstream 1.13.0
# with only the CVE-2024-45409 fix backported (changelog.Debian: "SAML authentication bypass via
# Incorrect XPath selector"). 1.13.0 is in the affected ranges of CVE-2025-25291 and
# CVE-2025-25292 (1.13.0-1.17.0, fixed in 1.18.0) and CVE-2025-66568 (< 1.18.0, with Nokogiri
# < 1.19.1), whose scenarios docs/advisories.md maps (S8 DOCTYPEs, S9 namespace confusion with
# its accept control, S7 void canonicalisation); the S1 scenarios of the backported fix and the
# comment-in-NameID scenarios of CVE-2017-11428 (fixed in 1.7.0) must pass. No row of a fixed
# ruby-saml exists (not installable here).
ruby-saml-1.13.0_version() { dpkg-query -W -f '${Version}' ruby-saml 2>/dev/null || echo "?"; }
ruby-saml-1.13.0_prepare() { # rowdir config port
    local row=$1 config=$2 port=$3
    mkdir -p "$row/logs"
    sp_keypair "$row" "ruby-saml $config"
    write_sp_toml "$row" "ruby-saml ($config)" "http://127.0.0.1:$port/login" \
        "http://127.0.0.1:$port/whoami" 'user=(\S+)'
}
ruby-saml-1.13.0_start() { # rowdir config port
    spawn "ruby-saml:$1" "$1/logs/app.log" env PORT="$3" ROW="$1" CONFIG="$2" \
        IDP_METADATA="$IDP_METADATA" ruby "$INTEROP/ruby/rubysaml_sp.rb"
}
ruby-saml-1.13.0_ready_url() { echo "http://127.0.0.1:$3/metadata"; }
ruby-saml-1.13.0_metadata() { # rowdir config port
    curl -sf --max-time 10 "http://127.0.0.1:$3/metadata" -o "$1/sp-metadata.xml" \
        || die "cannot fetch SP metadata from 127.0.0.1:$3"
    # ruby-saml decrypts rsa-oaep-mgf1p and AES-GCM, not NemLog-in's rsa-oaep with MGF1-SHA256.
    advertise_compatible_encryption "$1/sp-metadata.xml"
}
