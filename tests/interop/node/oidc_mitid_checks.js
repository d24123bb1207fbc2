// The MitID checks a hardened OIDC RP adds before it creates a session (Signaturgruppen-style
// broker claims). OIDC libraries verify the token; they know nothing of MitID, so a NemID login
// (idp=nemid, nemid.* claims, NemID amr) or a login below the service's NSIS level passes every
// generic check. Same rules as python/oidc_mitid_checks.py.
'use strict';

const NSIS = 'https://data.gov.dk/concept/core/nsis/';
// The service requires Substantial; High is stronger and also acceptable.
const ACCEPTED_LOA = [`${NSIS}Substantial`, `${NSIS}High`];
// The MitID-era lookup of the old NemID PID is allowed (it is not a NemID login).
const ALLOWED_NEMID_CLAIMS = ['nemid.pid', 'nemid.pid_status'];

// Why these claims must not become a session, or null when they are a proper MitID login.
// `claims` is the identity: the ID token's claims merged over userinfo's (the ID token wins where
// both have a claim). `userinfo` is userinfo's own answer, scanned for NemID markers as well, so
// a NemID `amr` there is not hidden by the ID token's.
function mitidProblem(claims, userinfo) {
  for (const c of [claims, userinfo || {}]) {
    const legacy = Object.keys(c).filter((k) => k.startsWith('nemid.') && !ALLOWED_NEMID_CLAIMS.includes(k));
    if (legacy.length) return `NemID claims ${legacy.join(', ')}`;
    const amr = [].concat(c.amr || []);
    if (amr.some((a) => String(a).toLowerCase().startsWith('nemid'))) return `NemID amr ${JSON.stringify(c.amr)}`;
  }
  if (claims.idp !== 'mitid') return `idp ${JSON.stringify(claims.idp)} is not mitid`;
  if (claims.identity_type !== 'private') return `identity_type ${JSON.stringify(claims.identity_type)}`;
  if (!ACCEPTED_LOA.includes(claims.loa)) return `loa ${JSON.stringify(claims.loa)} is below Substantial`;
  if (typeof claims['mitid.uuid'] !== 'string' || !claims['mitid.uuid']) return 'no mitid.uuid';
  return null;
}

module.exports = { mitidProblem };
