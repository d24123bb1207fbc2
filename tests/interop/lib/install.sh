# Installs what the interop tier needs, only when missing (sourced by tests/interop/run).
# Debian packages system-wide (apt does not start their services here: policy-rc.d), Python
# packages into venvs and npm packages into tests/interop/.work, cargo builds into target dirs.

APT_PACKAGES=(apache2 libapache2-mod-auth-mellon libapache2-mod-shib libapache2-mod-auth-openidc
    xmlsec1 python3-venv libclang-dev libxmlsec1-dev libxml2-dev pkg-config curl openssl
    ruby ruby-saml ruby-webrick php-cli php-xml php-mbstring php-sqlite3)

install_apt() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "apt-get install ${missing[*]}"
    [ "$(id -u)" = 0 ] || die "need root for apt-get install ${missing[*]}"
    apt-get update -qq >"$WORK/logs/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >>"$WORK/logs/apt.log" 2>&1 || { tail -20 "$WORK/logs/apt.log" >&2; die "apt-get install failed"; }
}

# A venv per requirements file; reinstalled only when the requirements file changes.
install_venv() { # venvdir requirements
    local venv=$1 req=$2 stamp
    stamp=$(sha256sum "$req" | cut -c1-16)
    [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ] && return 0
    log "pip install -r $(basename "$req") into $(basename "$venv")"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >"$WORK/logs/pip-$(basename "$venv").log" 2>&1 \
        || { tail -20 "$WORK/logs/pip-$(basename "$venv").log" >&2; die "pip install failed"; }
    echo "$stamp" >"$venv/.stamp"
}

# npm ci from the committed lockfile into .work/node (the apps find it through NODE_PATH).
install_node() {
    local dst=$WORK/node stamp
    stamp=$(cat "$INTEROP/node/package.json" "$INTEROP/node/package-lock.json" | sha256sum | cut -c1-16)
    [ -f "$dst/.stamp" ] && [ "$(cat "$dst/.stamp")" = "$stamp" ] && return 0
    log "npm ci (node SAML libraries, openid-client) into .work/node"
    mkdir -p "$dst"
    cp "$INTEROP/node/package.json" "$INTEROP/node/package-lock.json" "$dst/"
    (cd "$dst" && npm ci --no-audit --no-fund >"$WORK/logs/npm.log" 2>&1) \
        || { tail -20 "$WORK/logs/npm.log" >&2; die "npm ci failed"; }
    echo "$stamp" >"$dst/.stamp"
}

install_cargo() {
    # The dev profile by default: it shares its artifacts with `cargo test` (which .ci/run has
    # just built) and optimises dependencies (opt-level 3), so the broker's RSA work is fast.
    if [ "${SKIP_HARNESS_BUILD:-0}" != 1 ]; then
        log "cargo build --profile $HARNESS_PROFILE -p mitid-harness-cli"
        (cd "$ROOT" && cargo build --profile "$HARNESS_PROFILE" -q -p mitid-harness-cli) || die "cannot build mitid-harness"
    fi
    # The jsonwebtoken RP: the current release and the advisory row's 10.2.0, each locked.
    local m t
    for m in "jsonwebtoken-rp:jsonwebtoken-target" "jsonwebtoken-rp/10.2.0:jsonwebtoken-10.2.0-target"; do
        t=${m#*:}
        m=${m%%:*}
        log "cargo build ($m: own workspace, target .work/$t)"
        (cd "$INTEROP/$m" && CARGO_TARGET_DIR=$WORK/$t cargo build -q --locked) \
            || die "cannot build $m"
    done
    if [ -f "$INTEROP/samael-sp/Cargo.toml" ]; then
        log "cargo build (samael-sp: own workspace, target in .work; dev profile, the crypto is C)"
        (cd "$INTEROP/samael-sp" && CARGO_TARGET_DIR=$WORK/samael-target cargo build -q) \
            || die "cannot build samael-sp"
    fi
}

# SimpleSAMLphp: Debian's package in two builds (stacks/simplesamlphp.sh), downloaded and
# unpacked side by side under .work/simplesamlphp/<version>, not installed.
install_simplesamlphp() {
    local v dst
    for v in "$SSP_CURRENT" "$SSP_VULNERABLE"; do
        dst=$WORK/simplesamlphp/$v
        [ -f "$dst/usr/share/simplesamlphp/lib/_autoload.php" ] && continue
        log "apt-get download simplesamlphp=$v into .work/simplesamlphp"
        mkdir -p "$WORK/simplesamlphp/deb"
        (cd "$WORK/simplesamlphp/deb" && apt-get download "simplesamlphp=$v") >>"$WORK/logs/apt.log" 2>&1 \
            || { apt-get update -qq >>"$WORK/logs/apt.log" 2>&1 \
                && (cd "$WORK/simplesamlphp/deb" && apt-get download "simplesamlphp=$v") >>"$WORK/logs/apt.log" 2>&1; } \
            || die "apt-get download simplesamlphp=$v failed"
        rm -rf "$dst"
        mkdir -p "$dst"
        dpkg-deb -x "$WORK/simplesamlphp/deb/simplesamlphp_${v//:/%3a}_all.deb" "$dst" || die "cannot unpack simplesamlphp $v"
    done
}

install_all() {
    local t0 pids=() p failed=0
    t0=$(date +%s)
    command -v node >/dev/null && command -v npm >/dev/null || die "node and npm must be on PATH (Node 20+)"
    command -v cargo >/dev/null || die "cargo must be on PATH"
    install_apt
    install_simplesamlphp
    # pip and npm mostly wait on the network, cargo on the CPU: run them side by side.
    install_venv "$WORK/venv" "$INTEROP/python/requirements.txt" &
    pids+=($!)
    install_venv "$WORK/venv-pysaml2-6.4.1" "$INTEROP/python/requirements-pysaml2-6.4.1.txt" &
    pids+=($!)
    install_venv "$WORK/venv-authlib" "$INTEROP/python/requirements-authlib.txt" &
    pids+=($!)
    install_venv "$WORK/venv-pyjwt" "$INTEROP/python/requirements-pyjwt.txt" &
    pids+=($!)
    install_venv "$WORK/venv-pyjwt-2.10.0" "$INTEROP/python/requirements-pyjwt-2.10.0.txt" &
    pids+=($!)
    install_venv "$WORK/venv-pyjwt-2.13.0" "$INTEROP/python/requirements-pyjwt-2.13.0.txt" &
    pids+=($!)
    local j
    for j in "" -1.7.2; do
        install_venv "$WORK/venv-joserfc$j" "$INTEROP/python/requirements-joserfc$j.txt" &
        pids+=($!)
    done
    for j in "" -1.3.1; do
        install_venv "$WORK/venv-jwcrypto$j" "$INTEROP/python/requirements-jwcrypto$j.txt" &
        pids+=($!)
    done
    install_node &
    pids+=($!)
    install_cargo &
    pids+=($!)
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    [ $failed = 0 ] || die "an install step failed (logs in $WORK/logs)"
    log "install step took $(($(date +%s) - t0))s"
}
