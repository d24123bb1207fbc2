// An OIDC relying party whose ID-token signature check is node-jws (`jws`, the JWS layer under
// the auth0 `jsonwebtoken` package), for the mitid-harness interop tier. The code flow around it
// is oidc_code_flow.js; jws checks only the signature, so the claims are checked here.
//
// The signature is checked with jws's stream API as its README shows it for a key that is not
// known up front: `jws.createVerify({ signature, algorithm })`, and the key is written to
// `verifier.secret` when the lookup answers. The lookup is keyed by the token's `kid`: the
// broker's JWKS keys (as PEM) and, since OIDC Core 10.1 also allows HMAC ID tokens keyed with
// the client secret, the client secret under the `kid` this client uses for it. The algorithm
// must be one the app allows (discovery's `id_token_signing_alg_values_supported` and HS256,
// HS384, HS512).
//
// That is the setting of CVE-2025-65945 / GHSA-869p-cjfg-cm3x: "createVerify() for HMAC
// algorithms with user-provided data from the protected header in HMAC secret lookup
// routines". A `kid` the table does not have ends the secret stream with nothing, and jws
// before 3.2.3 / 4.0.1 then verified with an HMAC key of zero bytes, so a token MACed with no key
// at all verified. The fix makes createVerify throw for an HS* algorithm when no secret is given
// up front (read from the 3.2.2 → 3.2.3 diff of lib/verify-stream.js).
//
// The jws version comes from the module name in STACK: `jws` (current) or the npm alias
// `jws-3.2.2`.
//
// Environment: STACK, and oidc_code_flow.js's (PORT, ISSUER, CLIENT_ID, CLIENT_SECRET).
'use strict';
const { ISSUER, CLIENT_ID, jwks, pem, makeApp } = require('./oidc_code_flow');

const STACK = process.env.STACK || 'jws';
const jws = require(STACK);
const CLIENT_SECRET = process.env.CLIENT_SECRET;
// The `kid` under which this client's HMAC ID tokens would name the client secret.
const CLIENT_SECRET_KID = 'client-secret';
const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];

// The key for a `kid`, or undefined when there is none.
async function lookup(kid) {
  if (kid === CLIENT_SECRET_KID) return CLIENT_SECRET;
  const jwk = (await jwks()).find((k) => k.kid === kid && k.use !== 'enc');
  return jwk ? pem(jwk) : undefined;
}

function verifySignature(idToken, algorithm, kid) {
  return new Promise((resolve, reject) => {
    const verifier = jws.createVerify({ signature: idToken, algorithm, encoding: 'utf8' });
    verifier.on('done', (valid) => (valid ? resolve() : reject(new Error('signature does not verify'))));
    verifier.on('error', reject);
    lookup(kid).then((key) => verifier.secret.end(key), reject);
  });
}

function checkClaims(c, nonce) {
  const now = Math.floor(Date.now() / 1000);
  if (typeof c.iss !== 'string' || c.iss !== ISSUER) throw new Error(`iss ${JSON.stringify(c.iss)}`);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!aud.includes(CLIENT_ID)) throw new Error(`aud ${JSON.stringify(c.aud)}`);
  if (aud.length > 1 && c.azp !== CLIENT_ID) throw new Error(`azp ${JSON.stringify(c.azp)}`);
  if (typeof c.exp !== 'number' || c.exp <= now) throw new Error(`exp ${JSON.stringify(c.exp)}`);
  if (typeof c.nonce !== 'string' || c.nonce !== nonce) throw new Error('nonce mismatch');
  if (typeof c.sub !== 'string' || !c.sub) throw new Error('no sub');
}

async function verify(idToken, { metadata, nonce }) {
  const decoded = jws.decode(idToken, { json: true });
  if (!decoded || !decoded.header) throw new Error('not a JWS');
  const { alg, kid } = decoded.header;
  const allowed = [...(metadata.id_token_signing_alg_values_supported || ['RS256']), ...HMAC_ALGS];
  if (!allowed.includes(alg)) throw new Error(`alg ${JSON.stringify(alg)} not allowed`);
  await verifySignature(idToken, alg, kid);
  const claims = typeof decoded.payload === 'string' ? JSON.parse(decoded.payload) : decoded.payload;
  checkClaims(claims, nonce);
  return claims;
}

makeApp(`${STACK} ${require(`${STACK}/package.json`).version}`, verify)();
