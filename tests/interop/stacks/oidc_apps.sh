# The OIDC RPs written here on third-party libraries: openid-client (node/oidc_rp.js, npm into
# .work/node), Authlib (python/authlib_rp.py, venv .work/venv-authlib) and PyJWT
# (python/pyjwt_rp.py) and joserfc (python/joserfc_rp.py), one venv per release under .work.
# One process per row,
# against the row's own mock broker (lib/common.sh). Sourced by tests/interop/run.

_oidc_app_prepare() { # rowdir config port stack
    local row=$1 config=$2 port=$3 stack=$4
    mkdir -p "$row/logs"
    write_oidc_sp_toml "$row" "$stack $("${stack}_version") ($config)" "$port" \
        "http://127.0.0.1:$port/login" "http://127.0.0.1:$port/whoami" 'user=(\S+)' \
        "$(oidc_client_id "$stack" "$config")" "$(oidc_client_secret "$stack" "$config")" \
        "http://127.0.0.1:$port/callback"
}

_oidc_app_env() { # config port stack
    echo CONFIG="$1" PORT="$2" ISSUER="$(oidc_issuer "$2")" \
        CLIENT_ID="$(oidc_client_id "$3" "$1")" CLIENT_SECRET="$(oidc_client_secret "$3" "$1")"
}

openid-client_version() { _node_pkg_version openid-client; }
openid-client_protocol() { echo oidc; }
openid-client_prepare() { _oidc_app_prepare "$1" "$2" "$3" openid-client; }
openid-client_start() { # rowdir config port
    # shellcheck disable=SC2046
    spawn "openid-client:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" openid-client) \
        NODE_PATH="$WORK/node/node_modules" NODE_ENV=production node "$INTEROP/node/oidc_rp.js"
}
openid-client_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
openid-client_metadata() { :; }

authlib_version() { _py_version venv-authlib authlib; }
authlib_protocol() { echo oidc; }
authlib_prepare() { _oidc_app_prepare "$1" "$2" "$3" authlib; }
authlib_start() { # rowdir config port
    # shellcheck disable=SC2046
    spawn "authlib:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" authlib) \
        PYTHONPATH="$INTEROP/python" PYTHONUNBUFFERED=1 "$WORK/venv-authlib/bin/python" "$INTEROP/python/authlib_rp.py"
}
authlib_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
authlib_metadata() { :; }

# The apps on JWT/JWS libraries: one app per library, the same for every release of it; the
# release comes from the venv (Python) or from the module name in STACK (Node: the current
# package or an npm alias of an older release, package.json).
_py_app_start() { # rowdir config port stack venv script [VAR=value...]
    local row=$1 config=$2 port=$3 stack=$4 venv=$5 script=$6
    shift 6
    # shellcheck disable=SC2046
    spawn "$stack:$row" "$row/logs/app.log" env $(_oidc_app_env "$config" "$port" "$stack") "$@" \
        PYTHONPATH="$INTEROP/python" PYTHONUNBUFFERED=1 "$WORK/$venv/bin/python" "$INTEROP/python/$script"
}
_node_app_start() { # rowdir config port stack script
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") STACK="$4" \
        NODE_PATH="$WORK/node/node_modules" NODE_ENV=production node "$INTEROP/node/$5"
}

# Defines what tests/interop/run calls for one OIDC app stack: <name>_version (the command
# given), _protocol, _prepare and _start (the functions given, called with the row's directory,
# config and port, then the stack's name and the extra words), _ready_url and _metadata.
_oidc_app_stack() { # name "version command" prepare_fn start_fn [extra words]
    local n=$1 v=$2 p=$3 s=$4
    shift 4
    eval "
${n}_version() { $v; }
${n}_protocol() { echo oidc; }
${n}_prepare() { $p \"\$1\" \"\$2\" \"\$3\" $n $*; }
${n}_start() { $s \"\$1\" \"\$2\" \"\$3\" $n $*; }
${n}_ready_url() { echo \"http://127.0.0.1:\$3/whoami\"; }
${n}_metadata() { :; }
"
}

# PyJWT (python/pyjwt_rp.py). Configs pem-one-line and pem-cr hold the issuer's RSA key as PEM
# text, so their client registers RS256 for its ID tokens (the Signaturgruppen profile signs
# with ES256 unless the client asks otherwise).
_pyjwt_prepare() { # rowdir config port stack
    _oidc_app_prepare "$1" "$2" "$3" "$4"
    case $2 in
        pem-*) echo 'id_token_signed_response_alg = "RS256"' >>"$1/sp.toml" ;;
    esac
}
_oidc_app_stack pyjwt "_py_version venv-pyjwt PyJWT" _pyjwt_prepare _py_app_start venv-pyjwt pyjwt_rp.py
_oidc_app_stack pyjwt-2.10.0 "_py_version venv-pyjwt-2.10.0 PyJWT" _oidc_app_prepare _py_app_start venv-pyjwt-2.10.0 pyjwt_rp.py
# An advisory row: PyJWT 2.10.0's `_validate_iss` checked `isinstance(issuer, Sequence)` first,
# and a `str` is a Sequence, so a string issuer was tested with `payload["iss"] not in issuer`:
# any substring of the expected issuer passed (CVE-2024-53861, fixed in 2.10.1 by testing `str`
# first). It runs the issuer scenarios, the control login, and `oidc-forgery.unknown-crit`:
# PyJWT before 2.12.0 also accepted unknown `crit` header parameters (CVE-2026-32597).
pyjwt-2.10.0_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-claims.iss*' oidc-forgery.unknown-crit; }
_oidc_app_stack pyjwt-2.13.0 "_py_version venv-pyjwt-2.13.0 PyJWT" _pyjwt_prepare _py_app_start venv-pyjwt-2.13.0 pyjwt_rp.py
# An advisory row that documents a finding (O6, CVE-2026-102268/-102272/-102273, fixed in
# 2.14.0): 2.13.0's HMAC `prepare_key` refuses a key text only if `is_pem_format` (utils.py
# `_PEM_RE`: a BEGIN line ending in `\r?\n` ... END line, searched anywhere), `is_ssh_key`, or
# a top-level JSON object with `kty`; it lets through a JWKS document, DER, and PEM whose BEGIN
# line is not followed by (CR)LF. Our four PEM encodings match `_PEM_RE` and are refused; the
# JWKS document would pass, but the app hands PyJWT a PyJWK (no HMAC path) and discovery's
# algorithms (RS256, ES256), so no key-confusion token reaches the guard. Control login plus
# every key-confusion scenario; tests/interop/notes.md has the measured result.
pyjwt-2.13.0_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.key-confusion*'; }
# Advisory rows on the same app in configs pem-one-line and pem-cr (O6, both releases): the RP
# holds the issuer's RSA key as PEM text with its newlines removed or turned into CRs (as a key
# kept in an environment variable arrives) and calls `jwt.decode(..., key=<text>,
# algorithms=["RS256", "HS256"])`: the deployment the advisories describe, in which 2.13.0's HMAC
# guard is all that refuses `oidc-forgery.key-confusion-spki-pem-one-line` / `-spki-pem-cr`
# (python/pyjwt_rp.py). Control login plus every key-confusion scenario.
for _s in pyjwt pyjwt-2.13.0; do
    for _c in pem-one-line pem-cr; do
        eval "${_s}_${_c}_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.key-confusion*'; }"
    done
done
unset _s _c

# fast-jwt (node/fastjwt_rp.js).
for _s in fast-jwt fast-jwt-5.0.5 fast-jwt-6.2.3 fast-jwt-6.2.4; do
    _oidc_app_stack $_s "_node_pkg_version $_s" _oidc_app_prepare _node_app_start fastjwt_rp.js
done
# An advisory row: fast-jwt before 5.0.6 checked every element of an array `iss` against
# `allowedIss` and passed when any one matched, so `["https://attacker.example", "<issuer>"]`
# verified (CVE-2025-30144; 5.0.6 requires `iss` to be a string). It runs the issuer scenarios
# and the control login.
fast-jwt-5.0.5_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-claims.iss*'; }
# An advisory row, config kid-map only: fast-jwt before 6.2.4 took the '' of a key resolver's
# `keys[kid] || ''` as a zero-length HMAC secret, and with no `algorithms` option HS256/384/512
# were then allowed, so a token MACed with no key verified (CVE-2026-44351 /
# GHSA-gmvf-9v4p-v8jc). It runs the empty-key scenarios and the control login.
fast-jwt-6.2.3_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.hs256-empty-key*' oidc-forgery.hs512-empty-key-empty-kid; }
# An advisory row that documents a finding (O6, CVE-2026-107724, fixed in 6.3.0; the PEM-prefix
# lineage CVE-2026-34950 / GHSA-ww5h-9m49-7xx4): 6.2.4's `performDetectPublicKeyAlgorithms`
# (src/crypto.js) trims the key and anchors `^-----BEGIN( RSA)? PUBLIC KEY-----`, so our CRLF,
# no-final-newline and PKCS#1 CRLF forms are RSA keys and the leading space is trimmed; only
# text with no PEM header at all (a JWK or JWKS JSON string, or a non-whitespace prefix before
# the header) is taken as an HMAC secret. The app hands fast-jwt a PEM from the JWKS and
# discovery's algorithms (RS256, ES256), so no key-confusion token gets that far. Control login
# plus every key-confusion scenario; tests/interop/notes.md has the measured result.
fast-jwt-6.2.4_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.key-confusion*'; }

# joserfc (python/joserfc_rp.py).
_oidc_app_stack joserfc "_py_version venv-joserfc joserfc" _oidc_app_prepare _py_app_start venv-joserfc joserfc_rp.py
_oidc_app_stack joserfc-1.7.2 "_py_version venv-joserfc-1.7.2 joserfc" _oidc_app_prepare _py_app_start venv-joserfc-1.7.2 joserfc_rp.py
# An advisory row: joserfc 1.7.2's claims registry had no type check for `iss` and compared a
# list element by element, so `["https://attacker.example", "<issuer>"]` passed
# (CVE-2026-75509, fixed in 1.7.3): the issuer scenarios and the control login.
joserfc-1.7.2_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-claims.iss*'; }

# jws (node-jws, node/jws_rp.js). jws is a JWS library: the app checks the claims itself, so both
# rows run only the advisory's scenarios and the control login (the claims checks would be this
# app's, not the library's).
for _s in jws jws-3.2.2; do
    _oidc_app_stack $_s "_node_pkg_version $_s" _oidc_app_prepare _node_app_start jws_rp.js
    eval "${_s}_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.hs256-empty-key*' oidc-forgery.hs512-empty-key-empty-kid; }"
done
unset _s
# An advisory row: jws before 3.2.3 (and 4.0.0) verified an HMAC signature with a zero-byte key
# when createVerify got no secret and the secret stream was ended empty, as a key lookup keyed by
# the token's `kid` does for a `kid` it does not know (CVE-2025-65945 / GHSA-869p-cjfg-cm3x;
# 3.2.3 and 4.0.1 throw for HS* without a secret). The current `jws` row runs the same scenarios.

# jwcrypto (python/jwcrypto_rp.py). The RP registers its own RSA keys (`rp-sig`, `rp-enc`, made
# once per row by python/jwcrypto_keys.py) so that the broker may encrypt to it, as an RP that
# registers ID-token encryption does.
_jwcrypto_prepare() { # rowdir config port stack venv
    _oidc_app_prepare "$1" "$2" "$3" "$4"
    "$WORK/$5/bin/python" "$INTEROP/python/jwcrypto_keys.py" "$1/rp-keys.json" >>"$1/sp.toml" \
        || die "cannot make the jwcrypto RP's keys"
}
_jwcrypto_start() { # rowdir config port stack venv
    _py_app_start "$1" "$2" "$3" "$4" "$5" jwcrypto_rp.py RP_KEYS="$1/rp-keys.json"
}
_oidc_app_stack jwcrypto "_py_version venv-jwcrypto jwcrypto" _jwcrypto_prepare _jwcrypto_start venv-jwcrypto
_oidc_app_stack jwcrypto-1.3.1 "_py_version venv-jwcrypto-1.3.1 jwcrypto" _jwcrypto_prepare _jwcrypto_start venv-jwcrypto-1.3.1
# An advisory row: jwcrypto 1.3.1 decided from the token's shape whether to verify or decrypt, so
# a JWE encrypted to the RP's public key, holding claims nobody signed, logged in
# (CVE-2022-3102, fixed in 1.4): the JWE scenarios and the control login. The current release
# runs the whole catalogue.
jwcrypto-1.3.1_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.jwe-*'; }
