<?php
// The application behind a SimpleSAMLphp SP (the API of docs/simplesamlphp-sp-api.md):
//   /login    requireAuth() on the saml:SP source, back to /whoami after the ACS
//   /whoami   200 "user=<NameID>" when SimpleSAMLphp holds an authenticated session, else 401
//             ("user=(session-without-name-id)" for a session whose NameID is empty or absent)
//   /metadata the SP metadata SimpleSAMLphp publishes (module.php/saml/sp/metadata.php)
// SSP_DIR names the unpacked SimpleSAMLphp (its lib/_autoload.php).
require getenv('SSP_DIR') . '/lib/_autoload.php';

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$as = new \SimpleSAML\Auth\Simple('default-sp');
if ($path === '/login') {
    $as->requireAuth(['ReturnTo' => 'http://127.0.0.1:' . getenv('PORT') . '/whoami', 'KeepPost' => false]);
    header('Location: /whoami', true, 302);
    exit;
}
if ($path === '/metadata') {
    header('Location: /module.php/saml/sp/metadata.php/default-sp?output=xml', true, 302);
    exit;
}
header('Content-Type: text/plain');
if (!$as->isAuthenticated()) {
    http_response_code(401);
    echo "not logged in\n";
    exit;
}
$nameId = $as->getAuthData('saml:sp:NameID');
$value = is_object($nameId) ? $nameId->getValue() : (is_array($nameId) ? ($nameId['Value'] ?? '') : (string) $nameId);
// A session without a NameID (SimpleSAMLphp accepted an assertion with an empty or no NameID) is
// still a session: report it as one, as the Apache whoami does, not as a blank the oracle
// cannot read.
echo 'user=' . (trim((string) $value) === '' ? '(session-without-name-id)' : $value) . "\n";
