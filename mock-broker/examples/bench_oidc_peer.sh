#!/usr/bin/env bash
# Peer baseline for bench_oidc: panva's oidc-provider (npm), measured by the same Rust driver in
# the same run on this machine, next to the mock OIDC provider.
#
#   mock-broker/examples/bench_oidc_peer.sh [--seconds 5] [--concurrency 2] [--max-flows N]
#
# Installs oidc-provider into target/bench-peer (scratch, never committed), starts it on
# 127.0.0.1:$PORT with its development login form and consent granted up front (the mock has no
# consent step either), runs `bench_oidc` for the mock, then `bench_oidc --panva` for the peer.
# Loopback only. Needs node and npm; Node 22 silences oidc-provider's "unsupported runtime"
# warning, Node 20 works.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR="$ROOT/target/bench-peer"
PORT=${PORT:-18091}
VERSION=${OIDC_PROVIDER_VERSION:-9.13.3}

command -v node >/dev/null || { echo "bench_oidc_peer: node is not installed" >&2; exit 2; }
command -v npm >/dev/null || { echo "bench_oidc_peer: npm is not installed" >&2; exit 2; }

mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name":"bench-peer","private":true,"type":"module"}' > package.json
if [ ! -f "node_modules/oidc-provider/package.json" ] ||
   ! grep -q "\"version\": \"$VERSION\"" node_modules/oidc-provider/package.json; then
  npm i -E --no-audit --no-fund "oidc-provider@$VERSION"
fi

cat > op.mjs <<'JS'
// panva oidc-provider as a peer OP: two clients (RS256 and ES256 ID tokens), dev login form,
// consent pre-granted, fresh keys per start.
import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';

const port = Number(process.env.PORT || 18091);
const ISS = `http://127.0.0.1:${port}`;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const client = (id, alg) => ({
  client_id: id,
  client_secret: 'mock-rp-secret',
  redirect_uris: ['http://127.0.0.1:9/cb'],
  id_token_signed_response_alg: alg,
});
const oidc = new Provider(ISS, {
  clients: [client('rp', 'RS256'), client('rp-es256', 'ES256')],
  jwks: { keys: [{ ...rsa, kid: 'peer-rsa', use: 'sig', alg: 'RS256' }, { ...ec, kid: 'peer-ec', use: 'sig', alg: 'ES256' }] },
  cookies: { keys: ['bench-peer-cookie-key'] },
  claims: { openid: ['sub'], mitid: ['mitid.uuid'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, 'mitid.uuid': '8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a01' }),
  }),
  features: { devInteractions: { enabled: true } },
  async loadExistingGrant(ctx) {
    if (!ctx.oidc.session.accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid mitid');
    await grant.save();
    return grant;
  },
});
oidc.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${ISS}`));
JS

PORT=$PORT node op.mjs > "$DIR/op.log" 2>&1 &
OP_PID=$!
trap 'kill "$OP_PID" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/.well-known/openid-configuration" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$OP_PID" 2>/dev/null; then
    echo "bench_oidc_peer: oidc-provider exited; see $DIR/op.log" >&2
    cat "$DIR/op.log" >&2
    exit 1
  fi
  sleep 0.1
done

cd "$ROOT"
echo "node $(node --version), oidc-provider $VERSION"
cargo run -q --release -p mitid-mock-broker --example bench_oidc -- "$@"
cargo run -q --release -p mitid-mock-broker --example bench_oidc -- --panva "http://127.0.0.1:$PORT" "$@"
