# Apache mod_auth_openidc (Debian's libapache2-mod-auth-openidc) as an OIDC RP, one Apache per
# row, against the row's own mock broker (Signaturgruppen-style issuer, see lib/common.sh).
# Sourced by tests/interop/run; uses $INTEROP, $WORK.

mod_auth_openidc_version() { dpkg-query -W -f '${Version}' libapache2-mod-auth-openidc 2>/dev/null || echo "?"; }
mod_auth_openidc_protocol() { echo oidc; }

mod_auth_openidc_prepare() { # rowdir config port
    local row=$1 config=$2 port=$3
    mkdir -p "$row"/{run,logs,htdocs}
    local id secret pass
    id=$(oidc_client_id mod_auth_openidc "$config")
    secret=$(oidc_client_secret mod_auth_openidc "$config")
    [ -s "$row/passphrase" ] || openssl rand -hex 24 >"$row/passphrase"
    pass=$(cat "$row/passphrase")
    local profile="# default: the quick start, no MitID-specific checks" require="    Require valid-user"
    if [ "$config" = hardened ]; then
        profile="Include $INTEROP/apache/openidc-hardened.conf"
        require="    Include $INTEROP/apache/openidc-require-hardened.conf"
    fi
    render "$INTEROP/apache/openidc-httpd.conf.in" "$row/httpd.conf" \
        ROW="$row" PORT="$port" INTEROP="$INTEROP" ISSUER="$(oidc_issuer "$port")" \
        CLIENT_ID="$id" CLIENT_SECRET="$secret" PASSPHRASE="$pass" PROFILE="$profile" REQUIRE="$require"
    chown -R www-data:www-data "$row/run" "$row/logs"
    apache2 -t -f "$row/httpd.conf" >"$row/logs/configtest.log" 2>&1 \
        || { cat "$row/logs/configtest.log" >&2; die "apache rejects $row/httpd.conf"; }
    write_oidc_sp_toml "$row" "mod_auth_openidc $(mod_auth_openidc_version) ($config)" "$port" \
        "http://127.0.0.1:$port/login" "http://127.0.0.1:$port/whoami" 'user=(\S+)' \
        "$id" "$secret" "http://127.0.0.1:$port/oidc/redirect_uri"
}

mod_auth_openidc_start() { # rowdir config port
    local row=$1 i
    rm -f "$row/run/httpd.pid"
    apache2 -f "$row/httpd.conf" -k start
    for ((i = 0; i < 50; i++)); do
        [ -s "$row/run/httpd.pid" ] && break
        sleep 0.1
    done
    [ -s "$row/run/httpd.pid" ] || { cat "$row/logs/error.log" >&2; die "apache (mod_auth_openidc) did not start for $row"; }
    track_pid "$(cat "$row/run/httpd.pid")" "apache-openidc:$row"
}

mod_auth_openidc_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
mod_auth_openidc_metadata() { :; } # OIDC: the client is registered from sp.toml ([oidc_client])
