// Node SAML SPs for the mitid-harness interop tier: one process per stack x config row.
//
//   STACK=node-saml            @node-saml/node-saml (the SAML class, no framework)
//   STACK=node-saml-5.0.1      @node-saml/node-saml 5.0.1 (CVE-2025-54419), installed under the npm
//                              alias node-saml-5.0.1; the same app as node-saml
//   STACK=passport-saml        @node-saml/passport-saml (current), Express + Passport
//   STACK=passport-saml-2.0.5  passport-saml 2.0.5 on xmldom 0.4.0 (CVE-2021-21366), the 3.2.1 app
//   STACK=passport-saml-3.2.1  passport-saml 3.2.1 (CVE-2022-39299), Express + Passport
//   STACK=passport-saml-3.2.1-xml-crypto-1.5.3
//                              the same passport-saml 3.2.1 app on xml-crypto 1.5.3
//                              (GHSA-c27r-x354-4m68: HMAC keyed with the IdP certificate), under
//                              that npm alias with xml-crypto pinned by a scoped override
//   STACK=passport-wsfed-saml2-4.6.1
//                              passport-wsfed-saml2 4.6.1 (CVE-2025-46573), Express + Passport,
//                              its SAML2 protocol; xml-crypto from the registry (package.json)
//   STACK=samlify              samlify with its node-xmllint schema validator
//   STACK=samlify-no-xsd       the same samlify app with the README's "skip" validator
//
// Each is set up as its README shows, plus what NemLog-in forces on everybody: signed
// HTTP-Redirect AuthnRequests (RSA-SHA256), an unsigned Response around a signed, encrypted
// Assertion, no RequestedAuthnContext of the library's own. CONFIG=hardened adds the MitID
// attribute checks (specVersion, NSIS LoA, MitID NameID) and InResponseTo checking.
//
// CONFIG=oiosaml4 is the default setup speaking OIOSAML 4.0 (IDP_METADATA is then the broker's
// 4.0 metadata): the AuthnRequest carries RequestedAttributeProfiles in samlp:Extensions and the
// 4.0 LoA, through the library's own options (node-saml/passport-saml:
// samlAuthnRequestExtensions, authnContext, racComparison; samlify: loginRequestTemplate and
// createLoginRequest's customTagReplacement). passport-saml 3.2.1 has no such option.
//
// Environment: STACK, CONFIG, PORT, ROW (dir with sp.key/sp.crt), IDP_METADATA (file).
// Routes: /login, /acs (HTTP-POST), /whoami (200 "user=<NameID>" or 401), /metadata; samlify
// also /slo (IdP-initiated logout, HTTP-Redirect and HTTP-POST).
'use strict';
const fs = require('fs');
const express = require('express');
const session = require('express-session');
const { mitidProblem } = require('./mitid_checks');

const STACK = process.env.STACK;
const CONFIG = process.env.CONFIG || 'default';
const PORT = Number(process.env.PORT);
const ROW = process.env.ROW;
const BASE = `http://127.0.0.1:${PORT}`;
const HARDENED = CONFIG === 'hardened';
const OIOSAML4 = CONFIG === 'oiosaml4';
// OIOSAML 4.0: what a public, person-only service requests (every person profile) and the LoA.
const OIO4_NS = 'https://data.gov.dk/eid/saml/extensions';
const OIO4_PROFILES = [
  'https://data.gov.dk/eid/Person/DK',
  'https://data.gov.dk/eid/Person/DK/WithoutCPR',
  'https://data.gov.dk/eid/Person/DK/Anonymous',
  'https://data.gov.dk/eid/Person/EU',
];
const OIO4_LOA = 'https://data.gov.dk/concept/core/loa/Substantial';
const SP_KEY = fs.readFileSync(`${ROW}/sp.key`, 'utf8');
const SP_CERT = fs.readFileSync(`${ROW}/sp.crt`, 'utf8');
const IDP_XML = fs.readFileSync(process.env.IDP_METADATA, 'utf8');
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

// node-saml and passport-saml take the IdP as plain options, not metadata: read the three
// facts they need out of NemLog-in's metadata (entityID, SSO URL, signing certificates).
function idpFromMetadata(xml) {
  const entityId = /entityID="([^"]+)"/.exec(xml)[1];
  const sso = new RegExp(`SingleSignOnService[^>]*Binding="${REDIRECT}"[^>]*Location="([^"]+)"`).exec(xml)
    || new RegExp(`SingleSignOnService[^>]*Location="([^"]+)"[^>]*Binding="${REDIRECT}"`).exec(xml);
  const certs = [];
  const kd = /<(?:\w+:)?KeyDescriptor(?![^>]*use="encryption")[^>]*>([\s\S]*?)<\/(?:\w+:)?KeyDescriptor>/g;
  let m;
  while ((m = kd.exec(xml))) {
    const c = /<(?:\w+:)?X509Certificate>([^<]+)</.exec(m[1]);
    if (c) certs.push(c[1].replace(/\s+/g, ''));
  }
  return { entityId, sso: sso[1], certs };
}
const IDP = idpFromMetadata(IDP_XML);
let warmUp = Promise.resolve();

const app = express();
app.use(express.urlencoded({ extended: false, limit: '512kb' }));
app.use(session({ secret: require('crypto').randomBytes(32).toString('hex'), resave: false, saveUninitialized: false }));

function loggedIn(req, res, nameId) {
  req.session.regenerate((err) => {
    if (err) return res.status(500).send('session error');
    req.session.user = nameId;
    res.redirect('/whoami');
  });
}
function refuse(res, why) {
  console.error(`login refused: ${why}`);
  res.status(403).type('text/plain').send(`login refused: ${why}`);
}
// The signed octets of an HTTP-Redirect message (SAML bindings 3.4.4.1): the query parameters
// as they arrived, undecoded, in the order SAMLRequest|SAMLResponse, RelayState, SigAlg.
function redirectOctetString(req, type) {
  const raw = (req.originalUrl.split('?')[1] || '').split('&');
  const get = (k) => raw.find((p) => p.startsWith(`${k}=`));
  return [get(type), get('RelayState'), get('SigAlg')].filter(Boolean).join('&');
}
app.get('/whoami', (req, res) => {
  if (!req.session.user) return res.status(401).type('text/plain').send('not logged in');
  res.type('text/plain').send(`user=${req.session.user}\n`);
});

// ------------------------------------------------------------------ node-saml / passport-saml
function nodeSamlOptions(v3) {
  const o = {
    callbackUrl: `${BASE}/acs`,
    entryPoint: IDP.sso,
    issuer: `${BASE}/metadata`,
    audience: `${BASE}/metadata`,
    privateKey: SP_KEY,
    decryptionPvk: SP_KEY,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    identifierFormat: PERSISTENT,
    disableRequestedAuthnContext: true,
    // NemLog-in does not sign the Response ("SHOULD NOT"); node-saml 5 demands it by default.
    wantAuthnResponseSigned: false,
  };
  if (v3) o.cert = IDP.certs; else o.idpCert = IDP.certs;
  if (OIOSAML4) {
    // node-saml writes this object (xmlbuilder2 notation) into samlp:Extensions.
    o.samlAuthnRequestExtensions = {
      'nl:RequestedAttributeProfiles': { '@xmlns:nl': OIO4_NS, 'nl:Profile': OIO4_PROFILES },
    };
    o.disableRequestedAuthnContext = false;
    o.authnContext = [OIO4_LOA];
    o.racComparison = 'minimum';
  }
  // The default rows keep every other library default (passport-saml 3 does not even require a
  // signed assertion by default); hardened adds what the library can check for us.
  if (HARDENED) {
    o.wantAssertionsSigned = true;
    o.validateInResponseTo = v3 ? true : 'always';
    o.idpIssuer = IDP.entityId;
  }
  return o;
}
function checkProfile(profile) {
  if (!HARDENED) return null;
  return mitidProblem(profile.nameID, profile.attributes || profile);
}

if (STACK === 'node-saml' || STACK === 'node-saml-5.0.1') {
  const { SAML } = require(STACK === 'node-saml' ? '@node-saml/node-saml' : 'node-saml-5.0.1');
  const saml = new SAML(nodeSamlOptions(false));
  app.get('/metadata', (req, res) => res.type('text/xml').send(saml.generateServiceProviderMetadata(SP_CERT, SP_CERT)));
  app.get('/login', async (req, res, next) => {
    try { res.redirect(await saml.getAuthorizeUrlAsync('/whoami', req.hostname, {})); } catch (e) { next(e); }
  });
  app.post('/acs', async (req, res) => {
    let profile;
    try { ({ profile } = await saml.validatePostResponseAsync(req.body)); } catch (e) { return refuse(res, e.message); }
    if (!profile) return refuse(res, 'no profile');
    const why = checkProfile(profile);
    if (why) return refuse(res, why);
    loggedIn(req, res, profile.nameID);
  });
} else if (STACK === 'passport-saml' || STACK.startsWith('passport-saml-3.2.1') || STACK === 'passport-saml-2.0.5') {
  // passport-saml 2.x takes the options and verify callback of 3.x (`cert`, one verify).
  const v3 = STACK !== 'passport-saml';
  const passport = require('passport');
  const { Strategy } = v3
    ? require(STACK === 'passport-saml-3.2.1' ? 'passport-saml' : STACK)
    : require('@node-saml/passport-saml');
  const verify = (profile, done) => {
    const why = checkProfile(profile);
    return why ? done(null, false, { message: why }) : done(null, { nameID: profile.nameID });
  };
  const strategy = v3 ? new Strategy(nodeSamlOptions(true), verify) : new Strategy(nodeSamlOptions(false), verify, verify);
  passport.use('saml', strategy);
  passport.serializeUser((u, done) => done(null, u.nameID));
  passport.deserializeUser((id, done) => done(null, { nameID: id }));
  app.use(passport.initialize());
  app.get('/metadata', (req, res) => res.type('text/xml').send(strategy.generateServiceProviderMetadata(SP_CERT, SP_CERT)));
  app.get('/login', passport.authenticate('saml', { session: false }));
  app.post('/acs', (req, res, next) => {
    passport.authenticate('saml', { session: false }, (err, user, info) => {
      if (err) return refuse(res, err.message);
      if (!user) return refuse(res, (info && info.message) || 'no user');
      loggedIn(req, res, user.nameID);
    })(req, res, next);
  });
} else if (STACK === 'passport-wsfed-saml2-4.6.1') {
  // passport-wsfed-saml2 (Auth0) with its SAML2 protocol (`protocol: 'samlp'`), configured as
  // its README's "samlp" example: the IdP's SSO URL, its signing certificate (`cert`), our
  // `decryptionKey`; `signingKey` signs the HTTP-Redirect AuthnRequest (deflate, query
  // signature). The library writes no SP metadata, so the app serves it by hand.
  // 4.6.1 is the newest release the npm registry here has; it reads the profile with
  // descendant-axis XPath from the whole signed assertion, its ds:Signature included
  // (CVE-2025-46573, fixed in 4.6.4 by commit e5cf3cc2): the S13 scenarios.
  const passport = require('passport');
  const { Strategy } = require(STACK);
  const NAMEID_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';
  const strategy = new Strategy({
    protocol: 'samlp',
    path: '/acs',
    realm: `${BASE}/metadata`,
    callback: `${BASE}/acs`,
    identityProviderUrl: IDP.sso,
    cert: IDP.certs[0],
    decryptionKey: SP_KEY,
    signingKey: { key: SP_KEY, cert: SP_CERT },
    signatureAlgorithm: 'rsa-sha256',
    digestAlgorithm: 'sha256',
  }, (profile, done) => {
    const nameId = profile[NAMEID_CLAIM];
    const why = HARDENED ? mitidProblem(nameId, profile) : null;
    return why ? done(null, false, { message: why }) : done(null, { nameID: nameId });
  });
  passport.use('wsfed-saml2', strategy);
  app.use(passport.initialize());
  const pem = (c) => c.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const keyDescriptor = (use) => `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pem(SP_CERT)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
  const metadata = '<?xml version="1.0"?>'
    + `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${BASE}/metadata">`
    + '<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    + keyDescriptor('signing') + keyDescriptor('encryption')
    + `<md:NameIDFormat>${PERSISTENT}</md:NameIDFormat>`
    + `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${BASE}/acs" index="0" isDefault="true"/>`
    + '</md:SPSSODescriptor></md:EntityDescriptor>';
  app.get('/metadata', (req, res) => res.type('text/xml').send(metadata));
  app.get('/login', passport.authenticate('wsfed-saml2', { session: false }));
  app.post('/acs', (req, res, next) => {
    passport.authenticate('wsfed-saml2', { session: false }, (err, user, info) => {
      if (err) return refuse(res, err.message);
      if (!user) return refuse(res, (info && (info.message || String(info))) || 'no user');
      loggedIn(req, res, user.nameID);
    })(req, res, next);
  });
} else if (STACK === 'samlify' || STACK === 'samlify-no-xsd') {
  const samlify = require('samlify');
  if (STACK === 'samlify') {
    // samlify refuses to parse anything until a schema validator is set; this is the pure-JS
    // one its README recommends.
    const validator = require('@authenio/samlify-node-xmllint');
    samlify.setSchemaValidator(validator);
    // The validator compiles an Emscripten xmllint with the SAML schemas on first use (over ten
    // seconds on a busy 2-core machine): do it before serving, so no login pays for it.
    warmUp = validator.validate('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>').catch(() => null);
  } else {
    // The README's other choice: "always returns a resolved promise to skip" validation.
    samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });
  }
  // OIOSAML 4.0: samlify's documented way to shape the AuthnRequest is a custom template
  // (loginRequestTemplate) whose tags the customTagReplacement callback fills in.
  const oio4Template = '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
    + 'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" '
    + 'Destination="{Destination}" ProtocolBinding="{ProtocolBinding}" AssertionConsumerServiceURL="{AssertionConsumerServiceURL}">'
    + '<saml:Issuer>{Issuer}</saml:Issuer>'
    + `<samlp:Extensions><nl:RequestedAttributeProfiles xmlns:nl="${OIO4_NS}">`
    + OIO4_PROFILES.map((p) => `<nl:Profile>${p}</nl:Profile>`).join('')
    + '</nl:RequestedAttributeProfiles></samlp:Extensions>'
    + '<samlp:NameIDPolicy Format="{NameIDFormat}" AllowCreate="{AllowCreate}"/>'
    + `<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>${OIO4_LOA}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`
    + '</samlp:AuthnRequest>';
  const sp = samlify.ServiceProvider({
    entityID: `${BASE}/metadata`,
    authnRequestsSigned: true,
    wantAssertionsSigned: true,
    wantMessageSigned: false,
    isAssertionEncrypted: true,
    privateKey: SP_KEY,
    signingCert: SP_CERT,
    encPrivateKey: SP_KEY,
    encryptCert: SP_CERT,
    requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    nameIDFormat: [PERSISTENT],
    assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: `${BASE}/acs` }],
    // IdP-initiated logout as samlify's docs set it up: the SingleLogoutService endpoints in the
    // SP metadata, and LogoutRequests must be signed (checked by parseLogoutRequest).
    singleLogoutService: [
      { Binding: samlify.Constants.namespace.binding.redirect, Location: `${BASE}/slo` },
      { Binding: samlify.Constants.namespace.binding.post, Location: `${BASE}/slo` },
    ],
    wantLogoutRequestSigned: true,
    // samlify's default order writes NameIDFormat before SingleLogoutService, which the
    // metadata schema forbids (saml-metadata 2.4.2/2.4.4); the "shibboleth" order is the
    // schema's.
    elementsOrder: samlify.Constants.elementsOrder.shibboleth,
    ...(OIOSAML4 ? { loginRequestTemplate: { context: oio4Template } } : {}),
  });
  // samlify decides whether to decrypt from the *IdP's* isAssertionEncrypted setting.
  // wantLogoutResponseSigned on the IdP entity makes samlify sign the SP's LogoutResponse
  // (NemLog-in verifies it).
  const idp = samlify.IdentityProvider({
    metadata: IDP_XML, wantAuthnRequestsSigned: true, isAssertionEncrypted: true, wantLogoutResponseSigned: true,
  });
  const oio4Tags = (template) => {
    const id = sp.entitySetting.generateID();
    return {
      id,
      context: samlify.SamlLib.replaceTagsByValue(template, {
        ID: id,
        Destination: idp.entityMeta.getSingleSignOnService('redirect'),
        Issuer: sp.entityMeta.getEntityID(),
        IssueInstant: new Date().toISOString(),
        NameIDFormat: PERSISTENT,
        AllowCreate: sp.entitySetting.allowCreate,
        ProtocolBinding: samlify.Constants.namespace.binding.post,
        AssertionConsumerServiceURL: sp.entityMeta.getAssertionConsumerService('post'),
      }),
    };
  };
  app.get('/metadata', (req, res) => res.type('text/xml').send(sp.getMetadata()));
  app.get('/login', (req, res) => {
    const { id, context } = OIOSAML4 ? sp.createLoginRequest(idp, 'redirect', oio4Tags) : sp.createLoginRequest(idp, 'redirect');
    req.session.reqid = id;
    res.redirect(context);
  });
  app.post('/acs', async (req, res) => {
    const reqid = req.session.reqid;
    delete req.session.reqid;
    let extract;
    try { ({ extract } = await sp.parseLoginResponse(idp, 'post', { body: req.body })); } catch (e) { return refuse(res, String(e && e.message || e)); }
    const nameId = extract && extract.nameID;
    if (!nameId) return refuse(res, 'no NameID');
    if (HARDENED) {
      // samlify hands InResponseTo back but never compares it with anything.
      if (!reqid || extract.response.inResponseTo !== reqid) return refuse(res, 'InResponseTo does not match this session');
      const attrs = {};
      for (const [k, v] of Object.entries(extract.attributes || {})) attrs[k] = Array.isArray(v) ? v : [v];
      const why = mitidProblem(nameId, attrs);
      if (why) return refuse(res, why);
    }
    req.session.sessionIndex = extract.sessionIndex && extract.sessionIndex.sessionIndex;
    loggedIn(req, res, nameId);
  });
  // IdP-initiated single logout (samlify: parseLogoutRequest, then createLogoutResponse on the
  // same binding). The session ends only if the LogoutRequest names this session's user (and,
  // hardened, its SessionIndex and the IdP as Issuer); samlify itself compares neither.
  // samlify <= 2.13.1 verifies, for a POST LogoutRequest, any signature on an Assertion child
  // of the request (GHSA-63ch-w8pw-4mf2): the slo.wrapped-signed-assertion-* scenarios.
  const slo = (binding) => async (req, res) => {
    let parsed;
    try {
      const request = binding === 'redirect'
        ? { query: req.query, octetString: redirectOctetString(req, 'SAMLRequest') }
        : { body: req.body };
      parsed = await sp.parseLogoutRequest(idp, binding, request);
    } catch (e) { return refuse(res, `logout: ${String(e && e.message || e)}`); }
    const ex = parsed.extract || {};
    if (!req.session.user || ex.nameID !== req.session.user) return refuse(res, 'logout: the LogoutRequest names another user');
    if (HARDENED) {
      if (ex.issuer !== idp.entityMeta.getEntityID()) return refuse(res, 'logout: Issuer is not the IdP');
      const idx = [].concat(ex.sessionIndex || []);
      if (req.session.sessionIndex && !idx.includes(req.session.sessionIndex)) return refuse(res, 'logout: SessionIndex of another session');
    }
    const relayState = (binding === 'redirect' ? req.query.RelayState : req.body.RelayState) || '';
    req.session.destroy((err) => {
      if (err) return res.status(500).send('session error');
      const out = sp.createLogoutResponse(idp, parsed, binding, relayState);
      if (binding === 'redirect') return res.redirect(out.context);
      const esc = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      res.type('text/html').send(`<html><body onload="document.forms[0].submit()"><form method="POST" action="${esc(out.entityEndpoint)}">`
        + `<input type="hidden" name="SAMLResponse" value="${esc(out.context)}"/>`
        + (relayState ? `<input type="hidden" name="RelayState" value="${esc(relayState)}"/>` : '')
        + '</form></body></html>');
    });
  };
  app.get('/slo', slo('redirect'));
  app.post('/slo', slo('post'));
} else {
  console.error(`unknown STACK ${STACK}`);
  process.exit(2);
}

app.use((err, req, res, next) => { console.error(err); res.status(500).type('text/plain').send(String(err && err.message || err)); });
warmUp.then(() => app.listen(PORT, '127.0.0.1', () => console.error(`${STACK} (${CONFIG}) on ${BASE}`)));
