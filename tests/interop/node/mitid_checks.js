// The MitID-specific checks a hardened Node SP adds before it creates a session (the same rules
// as tests/interop/python/mitid_checks.py): SAML libraries verify signatures, audience and time
// but know nothing of OIOSAML 3, so a NemID-era assertion or a non-NSIS login passes them.
'use strict';
const SPEC_VERSION = 'https://data.gov.dk/model/core/specVersion';
const NSIS_LOA = 'https://data.gov.dk/concept/core/nsis/loa';
const NAMEID_PREFIX = 'https://data.gov.dk/model/core/eid/';
const ACCEPTED_LOA = ['Substantial', 'High']; // the service requires Substantial

function single(attrs, name) {
  const v = attrs[name];
  if (Array.isArray(v)) return v.length === 1 ? String(v[0]) : null;
  return v === undefined || v === null ? null : String(v);
}

/** Why this login must not become a session, or null for a proper MitID login. */
function mitidProblem(nameId, attrs) {
  if (single(attrs, SPEC_VERSION) !== 'OIO-SAML-3.0') return `not an OIOSAML 3.0 assertion (specVersion ${JSON.stringify(attrs[SPEC_VERSION])})`;
  if (!ACCEPTED_LOA.includes(single(attrs, NSIS_LOA))) return `NSIS LoA ${JSON.stringify(attrs[NSIS_LOA])} is below what the service requires`;
  if (!String(nameId || '').startsWith(NAMEID_PREFIX)) return `NameID ${JSON.stringify(nameId)} is not a MitID UUID identifier`;
  return null;
}

module.exports = { mitidProblem };
