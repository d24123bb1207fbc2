// An OIDC relying party whose ID-token check is fast-jwt, for the mitid-harness interop tier: one
// process per row, against the row's own mock broker (Signaturgruppen-style issuer).
//
// fast-jwt is a JWT library, not an OIDC client, so the app does the authorization code flow
// itself (state, nonce, client_secret_basic at the token endpoint, userinfo with its `sub`
// compared) and verifies the ID token with a verifier set up as fast-jwt's README shows for
// a key fetched per token:
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
// an array passed when any one element matched `allowedIss` (5.0.6 requires a string).
//
// Environment: STACK, CONFIG (default | kid-map), PORT, ISSUER, CLIENT_ID, CLIENT_SECRET.
// Routes: /login (302 to the broker), /callback (the redirect URI), /whoami (200 "user=<MitID
// UUID>" with a session, 401 without).
'use strict';
const express = require('express');
const session = require('express-session');
const crypto = require('crypto');

const STACK = process.env.STACK || 'fast-jwt';
const KID_MAP = (process.env.CONFIG || 'default') === 'kid-map';
const { createVerifier } = require(STACK);
const PORT = Number(process.env.PORT);
const BASE = `http://127.0.0.1:${PORT}`;
const REDIRECT_URI = `${BASE}/callback`;
const ISSUER = process.env.ISSUER;
const CLIENT_ID = process.env.CLIENT_ID;
const CLIENT_SECRET = process.env.CLIENT_SECRET;
const TIMEOUT_MS = 20000;

let metadata; // discovery, fetched on the first login, so the broker may start after us
async function discovery() {
  if (!metadata) {
    const r = await fetch(`${ISSUER}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!r.ok) throw new Error(`discovery answered ${r.status}`);
    metadata = await r.json();
  }
  return metadata;
}

// The broker's signing key for a token: fetched from jwks_uri for each verification (no cache,
// so key rotation needs nothing of the app), selected by `kid`, handed to fast-jwt as PEM.
async function keyFor(header) {
  const m = await discovery();
  const r = await fetch(m.jwks_uri, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!r.ok) throw new Error(`jwks_uri answered ${r.status}`);
  const { keys } = await r.json();
  const jwk = (keys || []).find((k) => k.kid === header.kid && k.use !== 'enc');
  if (!jwk) throw new Error(`no JWKS key with kid ${JSON.stringify(header.kid)}`);
  return crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

// CONFIG=kid-map: the JWKS as a map kid -> PEM, read for each token, and '' for a miss.
async function keyFromMap(header) {
  const m = await discovery();
  const r = await fetch(m.jwks_uri, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!r.ok) throw new Error(`jwks_uri answered ${r.status}`);
  const keys = {};
  for (const jwk of (await r.json()).keys || []) {
    if (jwk.kid && jwk.use !== 'enc') {
      keys[jwk.kid] = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    }
  }
  return keys[header.kid] || '';
}

const app = express();
app.use(session({
  secret: crypto.randomBytes(32).toString('hex'),
  resave: false,
  saveUninitialized: false,
  name: 'rp.sid',
}));

function refuse(res, why) {
  console.error(`login refused: ${why}`);
  res.status(401).type('text/plain').send(`login refused: ${why}\n`);
}

app.get('/login', async (req, res) => {
  try {
    const m = await discovery();
    req.session.state = crypto.randomBytes(16).toString('base64url');
    req.session.nonce = crypto.randomBytes(16).toString('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid mitid',
      state: req.session.state,
      nonce: req.session.nonce,
    });
    res.redirect(`${m.authorization_endpoint}?${q}`);
  } catch (e) {
    res.status(502).type('text/plain').send(`broker unavailable: ${e.message}\n`);
  }
});

app.get('/callback', async (req, res) => {
  const { state, nonce } = req.session;
  delete req.session.state;
  delete req.session.nonce;
  try {
    const m = await discovery();
    if (req.query.error) throw new Error(`authorization error ${req.query.error}`);
    if (!state || req.query.state !== state) throw new Error('state mismatch');
    const tr = await fetch(m.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64'),
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: String(req.query.code || ''), redirect_uri: REDIRECT_URI }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (tr.status !== 200) throw new Error(`token endpoint answered ${tr.status}`);
    const token = await tr.json();
    if (!token.id_token) throw new Error('no ID token');
    const verify = createVerifier({
      key: async ({ header }) => (KID_MAP ? keyFromMap(header) : keyFor(header)),
      ...(KID_MAP ? {} : { algorithms: m.id_token_signing_alg_values_supported || ['RS256'] }),
      allowedIss: ISSUER,
      allowedAud: CLIENT_ID,
      allowedNonce: nonce,
      requiredClaims: ['iss', 'aud', 'exp'],
    });
    const claims = await verify(token.id_token);
    // Signaturgruppen's ID token is minimal: who logged in is only at userinfo. OIDC Core
    // 5.3.2: its `sub` must equal the ID token's, or none of its values may be used.
    const ur = await fetch(m.userinfo_endpoint, {
      headers: { authorization: `Bearer ${token.access_token || ''}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (ur.status !== 200) throw new Error(`userinfo answered ${ur.status}`);
    const info = await ur.json();
    if (info.sub !== claims.sub) throw new Error(`userinfo sub ${JSON.stringify(info.sub)} is not the ID token's`);
    req.session.user = { ...info, ...claims };
  } catch (e) {
    return refuse(res, `${e.code ? e.code + ': ' : ''}${e.message}`);
  }
  res.redirect('/whoami');
});

app.get('/whoami', (req, res) => {
  const u = req.session.user;
  if (!u) return res.status(401).type('text/plain').send('not logged in\n');
  res.type('text/plain').send(`user=${u['mitid.uuid'] || '(session-without-mitid.uuid)'}\nsub=${u.sub}\n`);
});

app.listen(PORT, '127.0.0.1', () => console.error(`${STACK} RP (${KID_MAP ? 'kid-map' : 'default'}) on ${BASE}, issuer ${ISSUER}`));
