// An OIDC relying party whose ID-token check is fast-jwt, for the mitid-harness interop tier: one
// process per row, against the row's own mock broker (Signaturgruppen-style issuer).
//
// fast-jwt is a JWT library, not an OIDC client: the authorization code flow around it (state,
// nonce, client_secret_basic, userinfo with its `sub` compared) is oidc_code_flow.js. The ID
// token is verified with a verifier set up as fast-jwt's README shows for a key fetched per
// token:
//
//   createVerifier({ key: async ({ header }) => <the JWKS key with header.kid, as PEM>,
//                    algorithms: <discovery's id_token_signing_alg_values_supported>,
//                    allowedIss: ISSUER, allowedAud: CLIENT_ID, allowedNonce: <the nonce>,
//                    requiredClaims: ['iss', 'aud', 'exp'] })
//
// CONFIG=kid-map (advisory GHSA-gmvf-9v4p-v8jc's setting): the key resolver looks the token's
// `kid` up in a map of the JWKS keys and answers `keys[kid] || ''`, and no `algorithms` option
// is given, so fast-jwt derives the allowed algorithms from the key it gets (ES256 for the
// broker's EC key). Before 6.2.4 an empty string was taken as an HMAC secret of zero bytes, so a
// token with `alg: HS256` and a `kid` that is absent or unknown, MACed with no key at all,
// verified.
//
// The fast-jwt version comes from the module name in STACK: `fast-jwt` (current) or the npm
// alias `fast-jwt-5.0.5`, the last release before CVE-2025-30144's fix: an `iss` claim given as
// an array passed when any one element matched `allowedIss` (5.0.6 requires a string); or
// `fast-jwt-6.2.4`, the last release before 6.3.0 refused JWK/JWKS JSON and prefixed PEM as HMAC
// secrets (O6; with discovery's algorithms this app never reaches that check:
// tests/interop/notes.md).
//
// Environment: STACK, CONFIG (default | kid-map), and oidc_code_flow.js's.
'use strict';
const { ISSUER, CLIENT_ID, jwks, pem, makeApp } = require('./oidc_code_flow');

const STACK = process.env.STACK || 'fast-jwt';
const KID_MAP = (process.env.CONFIG || 'default') === 'kid-map';
const { createVerifier } = require(STACK);

// The broker's signing key for a token, selected by `kid`, handed to fast-jwt as PEM.
async function keyFor(header) {
  const jwk = (await jwks()).find((k) => k.kid === header.kid && k.use !== 'enc');
  if (!jwk) throw new Error(`no JWKS key with kid ${JSON.stringify(header.kid)}`);
  return pem(jwk);
}

// CONFIG=kid-map: the JWKS as a map kid -> PEM, read for each token, and '' for a miss.
async function keyFromMap(header) {
  const keys = {};
  for (const jwk of await jwks()) {
    if (jwk.kid && jwk.use !== 'enc') keys[jwk.kid] = pem(jwk);
  }
  return keys[header.kid] || '';
}

async function verify(idToken, { metadata, nonce }) {
  const verifier = createVerifier({
    key: async ({ header }) => (KID_MAP ? keyFromMap(header) : keyFor(header)),
    ...(KID_MAP ? {} : { algorithms: metadata.id_token_signing_alg_values_supported || ['RS256'] }),
    allowedIss: ISSUER,
    allowedAud: CLIENT_ID,
    allowedNonce: nonce,
    requiredClaims: ['iss', 'aud', 'exp'],
  });
  return verifier(idToken);
}

makeApp(`${STACK} (${KID_MAP ? 'kid-map' : 'default'})`, verify)();
