# An OIDC RP whose ID-token check is the Rust jsonwebtoken crate (tests/interop/jsonwebtoken-rp,
# its own workspace, built by install.sh twice: the current release into
# .work/jsonwebtoken-target, jsonwebtoken 10.2.0 from 10.2.0/Cargo.toml into
# .work/jsonwebtoken-10.2.0-target). Sourced by tests/interop/run.

_jsonwebtoken_lock_version() { # Cargo.lock
    grep -A1 '^name = "jsonwebtoken"$' "$1" 2>/dev/null | sed -n 's/^version = "\(.*\)"/\1/p' || echo "?"
}

_jsonwebtoken_start() { # rowdir config port stack target
    local bin=$WORK/$5/debug/jsonwebtoken-rp
    [ -x "$bin" ] || die "$bin is missing (run without --no-install)"
    # shellcheck disable=SC2046
    spawn "$4:$1" "$1/logs/app.log" env $(_oidc_app_env "$2" "$3" "$4") "$bin"
}

jsonwebtoken_version() { _jsonwebtoken_lock_version "$INTEROP/jsonwebtoken-rp/Cargo.lock"; }
jsonwebtoken_protocol() { echo oidc; }
jsonwebtoken_prepare() { _oidc_app_prepare "$1" "$2" "$3" jsonwebtoken; }
jsonwebtoken_start() { _jsonwebtoken_start "$1" "$2" "$3" jsonwebtoken jsonwebtoken-target; }
jsonwebtoken_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
jsonwebtoken_metadata() { :; }

# An advisory row: before 10.3.0 a time claim of the wrong JSON type (`"nbf": "4102444800"`, a
# string `exp`) failed to parse and was then treated as absent: a string `nbf` was not checked at
# all, and a string `exp` passed when `exp` was not required (CVE-2026-25537). It runs the time
# claim scenarios of mechanism O4 and the control login.
jsonwebtoken-10.2.0_version() { _jsonwebtoken_lock_version "$INTEROP/jsonwebtoken-rp/10.2.0/Cargo.lock"; }
jsonwebtoken-10.2.0_protocol() { echo oidc; }
jsonwebtoken-10.2.0_prepare() { _oidc_app_prepare "$1" "$2" "$3" jsonwebtoken-10.2.0; }
jsonwebtoken-10.2.0_start() { _jsonwebtoken_start "$1" "$2" "$3" jsonwebtoken-10.2.0 jsonwebtoken-10.2.0-target; }
jsonwebtoken-10.2.0_ready_url() { echo "http://127.0.0.1:$3/whoami"; }
jsonwebtoken-10.2.0_metadata() { :; }
jsonwebtoken-10.2.0_scenarios() { printf '%s\n' oidc-mitid.person-substantial 'oidc-claims.nbf*' 'oidc-claims.exp*'; }
