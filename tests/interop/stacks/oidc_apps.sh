# The OIDC RPs written here on third-party libraries: openid-client (node/oidc_rp.js, npm into
# .work/node) and Authlib (python/authlib_rp.py, venv .work/venv-authlib). One process per row,
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
