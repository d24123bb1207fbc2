# Shibboleth SP 3 (Debian's libapache2-mod-shib): one shibd + one Apache per row; shibd listens
# on TCP port (row port + 500). Sourced by tests/interop/run.

shibboleth_version() { dpkg-query -W -f '${Version}' libapache2-mod-shib 2>/dev/null || echo "?"; }

shibboleth_prepare() { # rowdir config port
    local row=$1 config=$2 port=$3
    mkdir -p "$row"/{run,logs,htdocs}
    sp_keypair "$row" "shibboleth $config"
    cp "$INTEROP/shibboleth/console.logger" "$row/console.logger"
    local map=/etc/shibboleth/attribute-map.xml policy=/etc/shibboleth/attribute-policy.xml
    if [ "$config" = hardened ]; then
        map=$INTEROP/shibboleth/attribute-map-hardened.xml
        policy=$INTEROP/shibboleth/attribute-policy-hardened.xml
    fi
    local idp_entity
    idp_entity=$(grep -o 'entityID="[^"]*"' "$IDP_METADATA" | head -1 | cut -d'"' -f2)
    render "$INTEROP/shibboleth/shibboleth2.xml.in" "$row/shibboleth2.xml" \
        ROW="$row" PORT="$port" SHIBD_PORT="$((port + 500))" IDP_METADATA="$IDP_METADATA" \
        IDP_ENTITY_ID="$idp_entity" ATTRIBUTE_MAP="$map" ATTRIBUTE_POLICY="$policy"
    if [ "$config" = oiosaml4 ]; then
        # <SSO> cannot carry an AuthnRequest template: an explicit SessionInitiator does. And the
        # 4.0 metadata must be loaded without schema validation (below).
        python3 - "$row/shibboleth2.xml" "$INTEROP/shibboleth/sso-oiosaml4.xml" "$idp_entity" <<'PY' \
            || die "cannot write the OIOSAML 4.0 SessionInitiator into $row/shibboleth2.xml"
import re, sys
path, block, entity = sys.argv[1:]
conf = open(path, encoding="utf-8").read()
sso = open(block, encoding="utf-8").read().replace("@IDP_ENTITY_ID@", entity).rstrip("\n")
conf, n = re.subn(r"^\s*<SSO [^>]*>SAML2</SSO>\n", "", conf, flags=re.M)
assert n == 1, "no <SSO> line"
# the schema wants <Logout> before the explicit handlers
conf, n = re.subn(r"^(\s*<Logout>[^<]*</Logout>)$", lambda m: m.group(1) + "\n" + sso, conf, flags=re.M)
assert n == 1, "no <Logout> line"
# NemLog-in's 4.0 IdP metadata, as published (and as the broker serves it), has md:Extensions
# after the KeyDescriptors, which the metadata schema does not allow: with validate="true" the
# XML MetadataProvider refuses the whole file and the IdP is unknown (tests/interop/notes.md).
conf, n = re.subn(r'(<MetadataProvider type="XML") validate="true"', r'\1 validate="false"', conf)
assert n == 1, "no MetadataProvider"
open(path, "w", encoding="utf-8").write(conf)
PY
    fi
    render "$INTEROP/shibboleth/httpd.conf.in" "$row/httpd.conf" \
        ROW="$row" PORT="$port" INTEROP="$INTEROP" PROFILE="Include $INTEROP/shibboleth/require-${config/oiosaml4/default}.conf"
    chown -R www-data:www-data "$row/run" "$row/logs"
    shibd -t -c "$row/shibboleth2.xml" >"$row/logs/shibd-check.log" 2>&1 \
        || { tail -20 "$row/logs/shibd-check.log" >&2; die "shibd rejects $row/shibboleth2.xml"; }
    write_sp_toml "$row" "Shibboleth SP $(shibboleth_version) ($config)" \
        "http://127.0.0.1:$port/whoami" "http://127.0.0.1:$port/whoami" 'user=(?:\S*!)?([^!\s]+)'
}

shibboleth_start() { # rowdir config port
    local row=$1 port=$3 i
    spawn "shibd:$row" "$row/logs/shibd.log" shibd -F -f -c "$row/shibboleth2.xml" -p "$row/run/shibd.pid"
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$((port + 500))") 2>/dev/null && break
        sleep 0.1
    done
    apache2 -f "$row/httpd.conf" -k start
    for ((i = 0; i < 50; i++)); do
        [ -s "$row/run/httpd.pid" ] && break
        sleep 0.1
    done
    [ -s "$row/run/httpd.pid" ] || { cat "$row/logs/error.log" >&2; die "apache (shib) did not start for $row"; }
    track_pid "$(cat "$row/run/httpd.pid")" "apache-shib:$row"
}

shibboleth_ready_url() { echo "http://127.0.0.1:$3/Shibboleth.sso/Metadata"; }

# The metadata Shibboleth generates for itself is what gets registered with the broker.
shibboleth_metadata() { # rowdir config port
    curl -sf --max-time 10 "http://127.0.0.1:$3/Shibboleth.sso/Metadata" -o "$1/sp-metadata.xml" \
        || die "cannot fetch Shibboleth metadata from 127.0.0.1:$3"
}
