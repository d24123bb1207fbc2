// The authorization code flow by hand, for the interop tier's Node RPs on JWT/JWS libraries that
// are not OIDC clients (fast-jwt, jws): one Express app per process, against the row's own mock
// broker (Signaturgruppen-style issuer). The library only checks the ID token: `makeApp` takes
// that check as a function, so the flow around it is the same for every library (the Python
// twin is python/oidc_code_flow.py).
//
// The flow: /login sends state and nonce; /callback compares state, redeems the code with
// client_secret_basic, hands the ID token to `verify(idToken, { metadata, nonce })` (which
// resolves to its claims or throws; it must check the nonce, since libraries do that
// differently), reads userinfo and requires its `sub` to equal the ID token's (OIDC Core 5.3.2:
// Signaturgruppen's ID token is minimal, the MitID UUID is at userinfo only); the ID token's
// claims merged over userinfo's are the user. /whoami answers "user=<MitID UUID>" with a
// session, 401 without.
//
// Environment: PORT, ISSUER, CLIENT_ID, CLIENT_SECRET.
'use strict';
const express = require('express');
const session = require('express-session');
const crypto = require('crypto');

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

// The broker's JWKS as served, fetched for each token (no cache, so key rotation needs nothing
// of the app).
async function jwks() {
  const m = await discovery();
  const r = await fetch(m.jwks_uri, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!r.ok) throw new Error(`jwks_uri answered ${r.status}`);
  return (await r.json()).keys || [];
}

// A JWK as a PEM public key (SPKI), the form JWT libraries take.
function pem(jwk) {
  return crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

// The browser session of every Node RP in the tier: a cookie `rp.sid` keyed by a secret made at
// start (a restarted app forgets its sessions, which no scenario relies on).
function sessions() {
  return session({
    secret: crypto.randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: false,
    name: 'rp.sid',
  });
}

function makeApp(name, verify) {
  const app = express();
  app.use(sessions());

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
      const claims = await verify(token.id_token, { metadata: m, nonce });
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

  return () => app.listen(PORT, '127.0.0.1', () => console.error(`${name} RP on ${BASE}, issuer ${ISSUER}`));
}

module.exports = { ISSUER, CLIENT_ID, TIMEOUT_MS, discovery, jwks, pem, sessions, makeApp };
