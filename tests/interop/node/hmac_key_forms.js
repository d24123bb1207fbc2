// Which text forms of an RSA public key a fast-jwt release takes as an HMAC secret: the
// library-level check behind the `fast-jwt-6.2.4/default` advisory row (tests/interop/notes.md,
// O6). Not a harness row: it calls fast-jwt directly, e.g.
//
//   NODE_PATH=tests/interop/.work/node/node_modules node tests/interop/node/hmac_key_forms.js fast-jwt-6.2.4
//   NODE_PATH=tests/interop/.work/node/node_modules node tests/interop/node/hmac_key_forms.js fast-jwt
//
// For each form it MACs an HS256 token with exactly those bytes and verifies it with
// `createVerifier({ key: <the same text> })`, no `algorithms`: fast-jwt then derives the allowed
// algorithms from the key (`detectPublicKeyAlgorithms`, src/crypto.js), the setting in which its
// key detection is all that stands between an RP holding the issuer's public key as text and an
// HS256 forgery. It also verifies a genuine RS256 token with the same key text, i.e. whether an
// RP could hold its key in that form and still log genuine users in. The names without "(not sent)" are
// the broker's encodings (mock-broker `public_key_bytes`: 64-column base64, LF, a final newline,
// unless the name says otherwise); the rest are forms the broker does not send.
'use strict';
const crypto = require('crypto');

const mod = process.argv[2] || 'fast-jwt';
const { createVerifier, createSigner } = require(mod);
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = publicKey.export({ type: 'spki', format: 'der' });
const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'der' });
function pem(label, der, nl = '\n') {
  const b = der.toString('base64');
  let out = `-----BEGIN ${label}-----${nl}`;
  for (let i = 0; i < b.length; i += 64) out += b.slice(i, i + 64) + nl;
  return out + `-----END ${label}-----${nl}`;
}
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };
const lf = pem('PUBLIC KEY', spki);
const forms = {
  'spki-pem': lf,
  'spki-pem-crlf': pem('PUBLIC KEY', spki, '\r\n'),
  'spki-pem-no-final-newline': lf.replace(/\n$/, ''),
  'spki-pem-leading-space': ' ' + lf,
  'pkcs1-pem-crlf': pem('RSA PUBLIC KEY', pkcs1, '\r\n'),
  'jwk-json': JSON.stringify(jwk),
  'jwks-json': JSON.stringify({ keys: [jwk] }),
  'spki-pem-comment-prefix': '# mock issuer signing key (from jwks_uri)\n' + lf,
  '(not sent) spki-pem-zero-width-prefix': '\u200b' + lf,
};
const b64u = (s) => Buffer.from(s).toString('base64url');
const genuine = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), algorithm: 'RS256' })({
  sub: 'victim',
});
const input = b64u('{"alg":"HS256","typ":"JWT"}') + '.' + b64u('{"sub":"victim"}');
console.log(`${mod} ${require(`${mod}/package.json`).version}`);
for (const [name, key] of Object.entries(forms)) {
  const forged = input + '.' + crypto.createHmac('sha256', key).update(input).digest('base64url');
  let hs;
  let rs;
  try {
    createVerifier({ key })(forged);
    hs = 'ACCEPTED as HMAC secret';
  } catch (e) {
    hs = `refused (${e.code})`;
  }
  try {
    createVerifier({ key })(genuine);
    rs = 'verifies RS256';
  } catch (e) {
    rs = `no RS256 (${e.code})`;
  }
  console.log(name.padEnd(42), hs.padEnd(38), rs);
}
