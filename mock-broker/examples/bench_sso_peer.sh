#!/usr/bin/env bash
# Peer benchmark for the SAML side of the mock broker: SimpleSAMLphp (Debian's 1.19 package) as
# an IdP with an RSA-3072 key and exampleauth:StaticSource (no login form), measured with the
# same driver as the broker (`bench_sso --peer-sso`), then the broker itself, in the same run.
#
#   mock-broker/examples/bench_sso_peer.sh            # from the repository root
#
# What is compared: complete SSO round trips (AuthnRequest in, auto-post form with a signed and
# encrypted SAMLResponse out) per second over loopback. SimpleSAMLphp gets unsigned
# AuthnRequests (its SP entry does not ask for signed requests), signs the assertion with
# RSA-SHA256 and encrypts it to the same mock SP certificate, so it does the same RSA work per
# login as the broker. `php -S` serves one request at a time; PHP_CLI_SERVER_WORKERS=2 forks two
# workers, so both figures are measured and the better one is the comparison.
#
# Everything listens on 127.0.0.1 only. Installs packages with apt-get if they are missing
# (system packages; the broker's own build stays pure Rust).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${SSP_LAB:-/tmp/mitid-bench-ssp}
# Not 18081: the interop tier runs its own SimpleSAMLphp there.
PORT=${SSP_PORT:-18181}
SSP_WWW=/usr/share/simplesamlphp/www
REQUESTS=${REQUESTS:-400}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}

if ! command -v php >/dev/null || [ ! -d "$SSP_WWW" ]; then
    echo "installing simplesamlphp php-xml php-mbstring (apt-get)" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y --no-install-recommends simplesamlphp php-xml php-mbstring >/dev/null
fi

rm -rf "$LAB"
mkdir -p "$LAB"/{config,cert,log,data,temp,metadata,sessions}
openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 30 \
    -subj "/CN=SimpleSAMLphp peer IdP (MOCK, benchmark only)" \
    -keyout "$LAB/cert/idp.key" -out "$LAB/cert/idp.crt" 2>/dev/null
cp "$ROOT/mock-broker/testdata/pki/sp.cert.pem" "$LAB/cert/sp.crt"

cat >"$LAB/config/config.php" <<EOF
<?php
\$config = [
    'baseurlpath' => 'http://127.0.0.1:$PORT/',
    'certdir' => '$LAB/cert/',
    'loggingdir' => '$LAB/log/',
    'datadir' => '$LAB/data/',
    'tempdir' => '$LAB/temp',
    'metadatadir' => '$LAB/metadata/',
    'attributenamemapdir' => '/etc/simplesamlphp/attributemap/',
    'secretsalt' => 'bench-secret-salt-0123456789',
    'auth.adminpassword' => 'bench-admin',
    'technicalcontact_email' => 'na@example.invalid',
    'timezone' => 'UTC',
    'enable.saml20-idp' => true,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.level' => SimpleSAML\Logger::WARNING,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true],
    'store.type' => 'phpsession',
    'session.cookie.secure' => false,
    'session.phpsession.savepath' => '$LAB/sessions',
];
EOF
cat >"$LAB/config/authsources.php" <<'EOF'
<?php
$config = [
    // No login form: every request is authenticated as this (mock) user.
    'static' => [
        'exampleauth:StaticSource',
        'uid' => ['anna'],
        'mail' => ['anna.mock-hansen@example.dk'],
        'cn' => ['Anna Mock-Hansen'],
    ],
];
EOF
cat >"$LAB/metadata/saml20-idp-hosted.php" <<EOF
<?php
\$metadata['http://127.0.0.1:$PORT/idp'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'static',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    // One RSA signature per login, on the assertion, as the broker (and OIOSAML 3) does;
    // SimpleSAMLphp signs the Response too by default.
    'saml20.sign.response' => false,
    'saml20.sign.assertion' => true,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
];
EOF
cat >"$LAB/metadata/saml20-sp-remote.php" <<'EOF'
<?php
$metadata['http://127.0.0.1:18089/sp'] = [
    'AssertionConsumerService' => 'http://127.0.0.1:18089/acs',
    'certificate' => 'sp.crt',
    'assertion.encryption' => true,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
];
EOF

echo "building the benchmark and the CLI (release)" >&2
(cd "$ROOT" && cargo build --release -q -p mitid-mock-broker --example bench_sso && cargo build --release -q -p mitid-harness-cli)
BENCH="$ROOT/target/release/examples/bench_sso"

PHP_PID=""
# php -S forks its workers; it runs in its own process group (setsid) so the whole group is
# stopped, not just the parent.
cleanup() { if [ -n "$PHP_PID" ]; then kill -- -"$PHP_PID" 2>/dev/null || true; wait "$PHP_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

declare -A SSP_RPS SSP_CPU
for workers in 1 2; do
    rm -f "$LAB"/sessions/*
    SIMPLESAMLPHP_CONFIG_DIR="$LAB/config" PHP_CLI_SERVER_WORKERS=$workers \
        setsid php -S "127.0.0.1:$PORT" -t "$SSP_WWW" >"$LAB/log/php-$workers.log" 2>&1 &
    PHP_PID=$!
    for _ in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/saml2/idp/metadata.php" && break
        sleep 0.1
    done
    # The server and its forked workers, for CPU accounting.
    PIDS=$(pgrep -g "$PHP_PID" | paste -sd, -)
    echo "== SimpleSAMLphp, php -S with $workers worker(s) (pids $PIDS)"
    out=$("$BENCH" --peer-sso "http://127.0.0.1:$PORT/saml2/idp/SSOService.php" \
        --peer-sp http://127.0.0.1:18089/sp --peer-acs http://127.0.0.1:18089/acs --peer-pids "$PIDS" \
        --clients 1,2,4 --requests "$REQUESTS" --seconds "$SECONDS_PER_RUN")
    echo "$out"
    SSP_RPS[$workers]=$(echo "$out" | sed -n 's/^RESULT peer_rps=\([0-9.]*\).*/\1/p')
    SSP_CPU[$workers]=$(echo "$out" | sed -n 's/^RESULT .*peer_per_cpu_sec=\([0-9.]*\).*/\1/p')
    cleanup
    PHP_PID=""
done

echo "== mitid-mock-broker"
bout=$("$BENCH" --clients 1,2,4,8 --requests "$REQUESTS" --seconds "$SECONDS_PER_RUN" \
    --startup-binary "$ROOT/target/release/mitid-harness")
echo "$bout"
BROKER=$(echo "$bout" | sed -n 's/^RESULT broker_rps=\([0-9.]*\).*/\1/p')
BROKER_CPU=$(echo "$bout" | sed -n 's/^RESULT .*broker_per_cpu_sec=\([0-9.]*\).*/\1/p')

SSP_BEST=$(printf '%s\n' "${SSP_RPS[1]:-0}" "${SSP_RPS[2]:-0}" | sort -g | tail -1)
SSP_BEST_CPU=$(printf '%s\n' "${SSP_CPU[1]:-0}" "${SSP_CPU[2]:-0}" | sort -g | tail -1)
echo
echo "SUMMARY (RSA-3072 signing key on both sides, one signature per login on the assertion, encrypted"
echo "assertion, loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "                                         per second   per CPU-second (server + client)"
printf '  SimpleSAMLphp 1.19, php -S, 1 worker : %8s   %8s\n' "${SSP_RPS[1]:-n/a}" "${SSP_CPU[1]:-n/a}"
printf '  SimpleSAMLphp 1.19, php -S, 2 workers: %8s   %8s\n' "${SSP_RPS[2]:-n/a}" "${SSP_CPU[2]:-n/a}"
printf '  mitid-mock-broker                    : %8s   %8s\n' "$BROKER" "$BROKER_CPU"
awk -v b="$BROKER" -v s="$SSP_BEST" -v bc="$BROKER_CPU" -v sc="$SSP_BEST_CPU" 'BEGIN {
    if (s > 0) printf "  ratio to the best SimpleSAMLphp figure: %.1fx per second, %.1fx per CPU-second (target >= 10x)\n", b / s, (sc > 0 ? bc / sc : 0)
}'
