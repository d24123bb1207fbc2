# A Rust SP on samael (tests/interop/samael-sp, its own workspace, built by install.sh into
# .work/samael-target). Sourced by tests/interop/run.

samael_version() {
    grep -A1 '^name = "samael"' "$INTEROP/samael-sp/Cargo.lock" 2>/dev/null | sed -n 's/^version = "\(.*\)"/\1/p' || echo "?"
}

samael_prepare() { # rowdir config port
    local row=$1 config=$2 port=$3
    mkdir -p "$row/logs"
    sp_keypair "$row" "samael $config"
    write_sp_toml "$row" "samael $(samael_version) ($config)" "http://127.0.0.1:$port/login" \
        "http://127.0.0.1:$port/whoami" 'user=(\S+)'
}

samael_start() { # rowdir config port
    local row=$1 config=$2 port=$3 bin=$WORK/samael-target/debug/samael-sp
    [ -x "$bin" ] || die "$bin is missing (run without --no-install)"
    spawn "samael:$row" "$row/logs/app.log" env PORT="$port" ROW="$row" CONFIG="$config" \
        IDP_METADATA="$IDP_METADATA" "$bin"
}

samael_ready_url() { echo "http://127.0.0.1:$3/metadata"; }

samael_metadata() { # rowdir config port
    curl -sf --max-time 10 "http://127.0.0.1:$3/metadata" -o "$1/sp-metadata.xml" \
        || die "cannot fetch samael metadata from 127.0.0.1:$3"
}
