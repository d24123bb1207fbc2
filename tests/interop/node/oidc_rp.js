// An OIDC relying party on openid-client (panva, v6) for the mitid-harness interop tier: one
// process per row, against the row's own mock broker (Signaturgruppen-style issuer).
//
//   CONFIG=default   openid-client's README quick start: discovery with the client secret,
//                    authorization code flow with PKCE S256 and no `state` (see below), then
//                    fetchUserInfo with the ID token's `sub` as the expected subject, the ID token
//                    claims merged over the userinfo claims as the user (Signaturgruppen's ID
//                    token is minimal: mitid.uuid is at userinfo only). openid-client validates
//                    the ID token's claims but, as documented, not its signature unless
//                    enableNonRepudiationChecks() is on.
//   CONFIG=hardened  what a careful MitID team adds: enableNonRepudiationChecks (signature
//                    against the broker's JWKS), a nonce, `idp_values=mitid`, and the MitID claim
//                    checks (oidc_mitid_checks.js) on the merged ID token + userinfo claims.
//
// ID token algorithm: no id_token_signed_response_alg is configured, so openid-client accepts
// what discovery advertises (id_token_signing_alg_values_supported: ES256 at Signaturgruppen).
//
// `state`: the quick start sends it only when the server does not advertise PKCE (the mock
// does), relying on PKCE alone against CSRF (RFC 9700 4.7.1). The default row does exactly that
// (no state, no nonce: the harness keys the flow by the PKCE code challenge and reports the
// state and nonce scenarios as not applicable); the hardened row sends both.
//
// Environment: CONFIG, PORT, ISSUER, CLIENT_ID, CLIENT_SECRET.
// Routes: /login (302 to the broker), /callback (the redirect URI), /whoami (200 "user=<MitID
// UUID>" with a session, 401 without).
'use strict';
const express = require('express');
const { sessions } = require('./oidc_code_flow');
const { mitidProblem } = require('./oidc_mitid_checks');

const CONFIG = process.env.CONFIG || 'default';
const HARDENED = CONFIG === 'hardened';
const PORT = Number(process.env.PORT);
const BASE = `http://127.0.0.1:${PORT}`;
const REDIRECT_URI = `${BASE}/callback`;
const ISSUER = process.env.ISSUER;
const SCOPE = 'openid mitid';

// openid-client is ESM-only; require(esm) works from Node 20.19 and, unlike import(), finds it
// through NODE_PATH (.work/node/node_modules).
const client = require('openid-client');
let config; // discovery result; fetched on the first login, so the broker may start after us
async function configuration() {
  if (!config) {
    const execute = [client.allowInsecureRequests]; // plain http on loopback
    if (HARDENED) execute.push(client.enableNonRepudiationChecks);
    config = await client.discovery(new URL(ISSUER), process.env.CLIENT_ID, process.env.CLIENT_SECRET,
      undefined, { execute });
  }
  return config;
}

const app = express();
app.use(sessions());
app.use(express.urlencoded({ extended: false }));

app.get('/login', async (req, res, next) => {
  try {
    const cfg = await configuration();
    const verifier = client.randomPKCECodeVerifier();
    const params = {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    if (HARDENED) {
      params.state = client.randomState();
      params.nonce = client.randomNonce();
      params.idp_values = 'mitid';
    }
    req.session.pending = { verifier, state: params.state, nonce: params.nonce };
    res.redirect(client.buildAuthorizationUrl(cfg, params).href);
  } catch (e) {
    next(e);
  }
});

async function callback(req, res) {
  const pending = req.session.pending;
  delete req.session.pending;
  try {
    if (!pending) throw new Error('no login is pending in this browser session');
    const cfg = await configuration();
    const current = new URL(req.originalUrl, BASE);
    // form_post: hand openid-client the posted parameters the way it reads them
    const input = req.method === 'POST'
      ? new Request(current, { method: 'POST', body: new URLSearchParams(req.body),
        headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      : current;
    const tokens = await client.authorizationCodeGrant(cfg, input, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    // Signaturgruppen's ID token is minimal: who logged in (mitid.uuid, dk.cpr, nemlogin.*) is
    // only at userinfo. fetchUserInfo compares the userinfo `sub` with the ID token's and
    // throws when they differ (OIDC Core 5.3.2: then the userinfo values must not be used).
    const userinfo = await client.fetchUserInfo(cfg, tokens.access_token, claims.sub);
    // The ID token is the signed statement; userinfo fills in what it leaves out.
    const identity = { ...userinfo, ...claims };
    if (HARDENED) {
      const why = mitidProblem(identity, userinfo);
      if (why) throw new Error(`not a MitID login this service accepts: ${why}`);
    }
    req.session.user = identity;
    res.redirect('/whoami');
  } catch (e) {
    console.error(`login refused: ${e && (e.code || e.name)}: ${e && e.message}`);
    res.status(401).type('text/plain').send(`login refused: ${e && e.message}\n`);
  }
}
app.get('/callback', callback);
app.post('/callback', callback);

app.get('/whoami', (req, res) => {
  const u = req.session.user;
  if (!u) return res.status(401).type('text/plain').send('not logged in\n');
  const id = u['mitid.uuid'] || '(session-without-mitid.uuid)';
  res.type('text/plain').send(`user=${id}\nsub=${u.sub}\n`);
});

app.use((err, req, res, _next) => {
  console.error(err);
  res.status(500).type('text/plain').send(`error: ${err && err.message}\n`);
});

app.listen(PORT, '127.0.0.1', () => console.log(`openid-client RP (${CONFIG}) on ${BASE}, issuer ${ISSUER}`));
