<?php
// Creates the SQL store's tables of one row before its server starts. SimpleSAMLphp creates
// them lazily, on the first request that needs them, with no guard against a concurrent first
// request: two logins in flight at a fresh row fail one ACS with "table ssp_saml_LogoutStore
// already exists" (seen in this tier). The tables are the same, only made ahead of time.
// Environment: SSP_DIR, SIMPLESAMLPHP_CONFIG_DIR.
require getenv('SSP_DIR') . '/lib/_autoload.php';

$store = \SimpleSAML\Store::getInstance(); // Store\SQL: its key-value and version tables
if (!($store instanceof \SimpleSAML\Store\SQL)) {
    fwrite(STDERR, "store.type is not sql\n");
    exit(1);
}
$create = new ReflectionMethod(\SimpleSAML\Module\saml\SP\LogoutStore::class, 'createLogoutTable');
$create->setAccessible(true);
$create->invoke(null, $store);
echo "store tables ready\n";
