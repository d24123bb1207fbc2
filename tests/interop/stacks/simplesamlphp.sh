# SimpleSAMLphp SP (saml:SP auth source, tests/interop/simplesamlphp), one PHP built-in server per
# row. The library is Debian bookworm's package in two builds whose only code difference is the
# bundled simplesamlphp/saml2 src/SAML2/HTTPRedirect.php: 1.19.7-1+deb12u2 (changelog.Debian: "Fix
# CVE-2025-27773") and 1.19.7-1+deb12u1 (vulnerable). Both are fetched with `apt-get download` and
# unpacked side by side under .work/simplesamlphp/<version> (lib/install.sh): not installed, no
# Apache, config found through SIMPLESAMLPHP_CONFIG_DIR. Packagist is not reachable from this tier,
# so no other release of SimpleSAMLphp or simplesamlphp/saml2 can be run. Sourced by tests/interop/run.

SSP_CURRENT=1.19.7-1+deb12u2
SSP_VULNERABLE=1.19.7-1+deb12u1
_ssp_dir() { echo "$WORK/simplesamlphp/$1/usr/share/simplesamlphp"; }

_ssp_prepare() { # rowdir config port debversion
    local row=$1 config=$2 port=$3 ssp idp
    ssp=$(_ssp_dir "$4")
    [ -f "$ssp/lib/_autoload.php" ] || die "SimpleSAMLphp $4 is not unpacked in $ssp (run without --no-install)"
    mkdir -p "$row/logs" "$row/config" "$row/metadata" "$row/data" "$row/tmp"
    rm -f "$row/data/store.sqlite"
    sp_keypair "$row" "simplesamlphp ${4//+/ } $config" # "+" would start a second RDN
    idp=$(php "$INTEROP/simplesamlphp/idp_metadata.php" "$ssp" "$IDP_METADATA" "$row/metadata/saml20-idp-remote.php") \
        || die "cannot convert $IDP_METADATA for SimpleSAMLphp"
    local salt
    salt=$(openssl rand -hex 16)
    render "$INTEROP/simplesamlphp/config.php.in" "$row/config/config.php" PORT="$port" ROW="$row" SALT="$salt"
    render "$INTEROP/simplesamlphp/authsources.php.in" "$row/config/authsources.php" PORT="$port" IDP_ENTITY_ID="$idp"
    env SSP_DIR="$ssp" SIMPLESAMLPHP_CONFIG_DIR="$row/config" php "$INTEROP/simplesamlphp/init_store.php" \
        >"$row/logs/init-store.log" 2>&1 || die "cannot create SimpleSAMLphp's SQL store tables (see $row/logs/init-store.log)"
    write_sp_toml "$row" "simplesamlphp $4 ($config)" "http://127.0.0.1:$port/login" \
        "http://127.0.0.1:$port/whoami" 'user=(\S+)'
}

_ssp_start() { # rowdir config port debversion
    local row=$1 port=$3 ssp
    ssp=$(_ssp_dir "$4")
    # PHP_CLI_SERVER_WORKERS: the built-in server forks this many workers (one request each),
    # so two logins in flight and a login's own round trips do not queue behind each other.
    spawn "simplesamlphp:$row" "$row/logs/app.log" env SIMPLESAMLPHP_CONFIG_DIR="$row/config" \
        SSP_DIR="$ssp" PORT="$port" PHP_CLI_SERVER_WORKERS=4 \
        php -d variables_order=EGPCS -d display_errors=stderr -S "127.0.0.1:$port" -t "$ssp/www" \
        "$INTEROP/simplesamlphp/router.php"
}

# The built-in server's workers outlive a master stopped with TERM (they are re-parented, and keep
# the port): record them by pid, once the server answers, so stop_all ends them too.
_ssp_track_workers() { # rowdir
    local master w
    master=$(awk -v n="simplesamlphp:$1" '$2 == n {print $1}' "$WORK/pids" | tail -1)
    [ -n "$master" ] || return 0
    for w in $(ps -o pid= --ppid "$master"); do track_pid "$w" "simplesamlphp-worker:$1"; done
}

_ssp_metadata() { # rowdir port
    _ssp_track_workers "$1"
    curl -sfL --max-time 20 "http://127.0.0.1:$2/metadata" -o "$1/sp-metadata.xml" \
        || die "cannot fetch SP metadata from 127.0.0.1:$2"
    # xmlseclibs decrypts rsa-oaep-mgf1p and AES-GCM; NemLog-in's rsa-oaep with MGF1-SHA256 it
    # does not: the registered metadata says what it can decrypt.
    advertise_compatible_encryption "$1/sp-metadata.xml"
}

for _s in simplesamlphp simplesamlphp-1.19.7-deb12u1; do
    eval "
${_s}_ready_url() { echo \"http://127.0.0.1:\$3/whoami\"; }
${_s}_metadata() { _ssp_metadata \"\$1\" \"\$3\"; }
"
done
unset _s
simplesamlphp_version() { echo "SimpleSAMLphp $SSP_CURRENT (Debian)"; }
simplesamlphp_prepare() { _ssp_prepare "$1" "$2" "$3" "$SSP_CURRENT"; }
simplesamlphp_start() { _ssp_start "$1" "$2" "$3" "$SSP_CURRENT"; }
simplesamlphp-1.19.7-deb12u1_version() { echo "SimpleSAMLphp $SSP_VULNERABLE (Debian)"; }
simplesamlphp-1.19.7-deb12u1_prepare() { _ssp_prepare "$1" "$2" "$3" "$SSP_VULNERABLE"; }
simplesamlphp-1.19.7-deb12u1_start() { _ssp_start "$1" "$2" "$3" "$SSP_VULNERABLE"; }
# An advisory row: simplesamlphp/saml2 < 4.17.0 (bundled in 1.19.7-1+deb12u1) parsed the Redirect
# query keeping the last value of a name, built the signed string from the last SAMLRequest or
# SAMLResponse, and processed SAMLRequest whenever there was one (CVE-2025-27773,
# GHSA-46r4-f8gj-xg56, fix 7867d6099dc7). The S14 scenarios send those queries; one plain login
# and a genuine IdP-initiated logout are the controls.
simplesamlphp-1.19.7-deb12u1_scenarios() {
    printf '%s\n' mitid.person-substantial slo.idp-initiated-redirect 'slo.redirect-*'
}
