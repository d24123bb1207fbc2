# Apache mod_auth_mellon (Debian's libapache2-mod-auth-mellon), one Apache per row.
# Sourced by tests/interop/run; uses $INTEROP, $WORK, $IDP_METADATA, $BROKER_URL.

mellon_version() { dpkg-query -W -f '${Version}' libapache2-mod-auth-mellon 2>/dev/null || echo "?"; }

# Key pair and SP metadata come from mellon's own mellon_create_metadata, as its README says.
mellon_prepare() { # rowdir config port
    local row=$1 config=$2 port=$3
    mkdir -p "$row"/{run,logs,htdocs}
    if [ ! -s "$row/sp-metadata.xml" ]; then
        (cd "$row" && mellon_create_metadata "http://127.0.0.1:$port/mellon/metadata" \
            "http://127.0.0.1:$port/mellon" >/dev/null)
        local base="http_127.0.0.1_${port}_mellon_metadata"
        mv "$row/$base.key" "$row/sp.key"
        mv "$row/$base.cert" "$row/sp.crt"
        mv "$row/$base.xml" "$row/sp-metadata.xml"
    fi
    chmod 644 "$row/sp.key" # lab only: apache children run as www-data
    local profile="# default: no MitID-specific checks"
    [ "$config" = hardened ] && profile="Include $INTEROP/apache/mellon-hardened.conf"
    render "$INTEROP/apache/mellon-httpd.conf.in" "$row/httpd.conf" \
        ROW="$row" PORT="$port" INTEROP="$INTEROP" IDP_METADATA="$IDP_METADATA" PROFILE="$profile"
    chown -R www-data:www-data "$row/run" "$row/logs"
    write_sp_toml "$row" "mod_auth_mellon $(mellon_version) ($config)" \
        "http://127.0.0.1:$port/whoami" "http://127.0.0.1:$port/whoami" 'user=(\S+)'
}

mellon_start() { # rowdir config port
    local row=$1
    apache2 -f "$row/httpd.conf" -k start
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$row/run/httpd.pid" ] && break
        sleep 0.1
    done
    [ -s "$row/run/httpd.pid" ] || { cat "$row/logs/error.log" >&2; die "apache (mellon) did not start for $row"; }
    track_pid "$(cat "$row/run/httpd.pid")" "apache-mellon:$row"
}

mellon_ready_url() { echo "http://127.0.0.1:$3/mellon/metadata"; }

# mellon_create_metadata already wrote the metadata mellon serves at /mellon/metadata. Lasso
# decrypts with libxmlsec1 1.2, which lacks NemLog-in's default key transport (rsa-oaep with
# MGF1-SHA256), so the registered metadata says what it can decrypt.
mellon_metadata() { advertise_compatible_encryption "$1/sp-metadata.xml"; }

# lasso aborts the Apache child (g_error: "samlp2:LogoutRequest needs one of BaseID, NameID or
# EncryptedID", then "child pid ... exit signal Trace/BPT trap") on a Redirect LogoutRequest
# whose first child after the Issuer is a saml:Assertion: an unauthenticated request kills the
# worker and every connection it serves. The harness sees its own step fail (INCONCLUSIVE, "SP
# unreachable"); run beside another scenario, the crash also broke that one's login
# (`status.requester-with-assertion` INCONCLUSIVE), so it runs alone, after the others.
# The same abort follows `slo.redirect-request-and-response` (S14: a forged SAMLRequest beside a
# signed SAMLResponse; the error log shows the same g_error, 2026-12-05): in the first full run with
# the S14 scenarios it also took down a login in flight beside it (`slo.redirect-encoded-param-name`
# on mellon/hardened, INCONCLUSIVE at step 1), so it runs alone too.
mellon_isolated() { printf '%s\n' slo.wrapped-signed-assertion-redirect slo.redirect-request-and-response; }
