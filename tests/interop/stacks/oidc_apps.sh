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

# PyJWT: the app is the same for every release; the venv decides the PyJWT version.
_pyjwt_start() { # rowdir config port stack venv
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") \
        PYTHONPATH="$INTEROP/python" PYTHONUNBUFFERED=1 "$WORK/$5/bin/python" "$INTEROP/python/pyjwt_rp.py"
}
pyjwt_version() { _py_version venv-pyjwt PyJWT; }
pyjwt_protocol() { echo oidc; }
pyjwt_prepare() { _oidc_app_prepare "$1" "$2" "$3" pyjwt; }
pyjwt_start() { _pyjwt_start "$1" "$2" "$3" pyjwt venv-pyjwt; }
pyjwt_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
pyjwt_metadata() { :; }

# An advisory row: PyJWT 2.10.0's `_validate_iss` checked `isinstance(issuer, Sequence)` first,
# and a `str` is a Sequence, so a string issuer was tested with `payload["iss"] not in issuer`:
# any substring of the expected issuer passed (CVE-2024-53861, fixed in 2.10.1 by testing `str`
# first). It runs the issuer scenarios, the control login, and `oidc-forgery.unknown-crit`:
# PyJWT before 2.12.0 also accepted unknown `crit` header parameters (CVE-2026-32597).
pyjwt-2.10.0_version() { _py_version venv-pyjwt-2.10.0 PyJWT; }
pyjwt-2.10.0_protocol() { echo oidc; }
pyjwt-2.10.0_prepare() { _oidc_app_prepare "$1" "$2" "$3" pyjwt-2.10.0; }
pyjwt-2.10.0_start() { _pyjwt_start "$1" "$2" "$3" pyjwt-2.10.0 venv-pyjwt-2.10.0; }
pyjwt-2.10.0_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
pyjwt-2.10.0_metadata() { :; }
pyjwt-2.10.0_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-claims.iss*' oidc-forgery.unknown-crit; }

# fast-jwt: one Express app (node/fastjwt_rp.js) for every release; STACK names the module, the
# current `fast-jwt` or an npm alias of an older release (package.json).
_fastjwt_start() { # rowdir config port stack
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") STACK="$4" \
        NODE_PATH="$WORK/node/node_modules" NODE_ENV=production node "$INTEROP/node/fastjwt_rp.js"
}
for _s in fast-jwt fast-jwt-5.0.5 fast-jwt-6.2.3; do
    eval "
${_s}_version() { _node_pkg_version $_s; }
${_s}_protocol() { echo oidc; }
${_s}_prepare() { _oidc_app_prepare \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_start() { _fastjwt_start \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_ready_url() { echo \"http://127.0.0.1:\$3/whoami\"; }
${_s}_metadata() { :; }
"
done
unset _s
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

# joserfc: one app (python/joserfc_rp.py) for every release; the venv decides the version.
_joserfc_start() { # rowdir config port stack venv
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") \
        PYTHONPATH="$INTEROP/python" PYTHONUNBUFFERED=1 "$WORK/$5/bin/python" "$INTEROP/python/joserfc_rp.py"
}
for _s in joserfc:venv-joserfc joserfc-1.7.2:venv-joserfc-1.7.2; do
    _v=${_s#*:}
    _s=${_s%%:*}
    eval "
${_s}_version() { _py_version $_v joserfc; }
${_s}_protocol() { echo oidc; }
${_s}_prepare() { _oidc_app_prepare \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_start() { _joserfc_start \"\$1\" \"\$2\" \"\$3\" $_s $_v; }
${_s}_ready_url() { echo \"http://127.0.0.1:\$3/whoami\"; }
${_s}_metadata() { :; }
"
done
unset _s _v
# An advisory row: joserfc 1.7.2's claims registry had no type check for `iss` and compared a
# list element by element, so `["https://attacker.example", "<issuer>"]` passed
# (CVE-2026-75509, fixed in 1.7.3): the issuer scenarios and the control login.
joserfc-1.7.2_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-claims.iss*'; }

# jws (node-jws): one app (node/jws_rp.js) for every release; STACK names the module, the current
# `jws` or the npm alias `jws-3.2.2`. jws is a JWS library: the app checks the claims itself, so
# both rows run only the advisory's scenarios and the control login (the claims checks would be
# this app's, not the library's).
_jws_start() { # rowdir config port stack
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") STACK="$4" \
        NODE_PATH="$WORK/node/node_modules" NODE_ENV=production node "$INTEROP/node/jws_rp.js"
}
for _s in jws jws-3.2.2; do
    eval "
${_s}_version() { _node_pkg_version $_s; }
${_s}_protocol() { echo oidc; }
${_s}_prepare() { _oidc_app_prepare \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_start() { _jws_start \"\$1\" \"\$2\" \"\$3\" $_s; }
${_s}_ready_url() { echo \"http://127.0.0.1:\$3/whoami\"; }
${_s}_metadata() { :; }
${_s}_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.hs256-empty-key*' oidc-forgery.hs512-empty-key-empty-kid; }
"
done
unset _s
# An advisory row: jws before 3.2.3 (and 4.0.0) verified an HMAC signature with a zero-byte key
# when createVerify got no secret and the secret stream was ended empty, as a key lookup keyed by
# the token's `kid` does for a `kid` it does not know (CVE-2025-65945 / GHSA-869p-cjfg-cm3x;
# 3.2.3 and 4.0.1 throw for HS* without a secret). The current `jws` row runs the same scenarios.

# jwcrypto: one app (python/jwcrypto_rp.py) for every release; the venv decides the version. The
# RP registers its own RSA keys (`rp-sig`, `rp-enc`, made once per row by
# python/jwcrypto_keys.py) so that the broker may encrypt to it, as an RP that registers ID-token
# encryption does.
_jwcrypto_prepare() { # rowdir config port stack venv
    _oidc_app_prepare "$1" "$2" "$3" "$4"
    "$WORK/$5/bin/python" "$INTEROP/python/jwcrypto_keys.py" "$1/rp-keys.json" >>"$1/sp.toml" \
        || die "cannot make the jwcrypto RP's keys"
}
_jwcrypto_start() { # rowdir config port stack venv
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") RP_KEYS="$1/rp-keys.json" \
        PYTHONPATH="$INTEROP/python" PYTHONUNBUFFERED=1 "$WORK/$5/bin/python" "$INTEROP/python/jwcrypto_rp.py"
}
for _s in jwcrypto:venv-jwcrypto jwcrypto-1.3.1:venv-jwcrypto-1.3.1; do
    _v=${_s#*:}
    _s=${_s%%:*}
    eval "
${_s}_version() { _py_version $_v jwcrypto; }
${_s}_protocol() { echo oidc; }
${_s}_prepare() { _jwcrypto_prepare \"\$1\" \"\$2\" \"\$3\" $_s $_v; }
${_s}_start() { _jwcrypto_start \"\$1\" \"\$2\" \"\$3\" $_s $_v; }
${_s}_ready_url() { echo \"http://127.0.0.1:\$3/whoami\"; }
${_s}_metadata() { :; }
"
done
unset _s _v
# An advisory row: jwcrypto 1.3.1 decided from the token's shape whether to verify or decrypt, so
# a JWE encrypted to the RP's public key, holding claims nobody signed, logged in
# (CVE-2022-3102, fixed in 1.4): the JWE scenarios and the control login. The current release
# runs the whole catalogue.
jwcrypto-1.3.1_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-forgery.jwe-*'; }
