<?php
// Converts the broker's IdP metadata XML into saml20-idp-remote.php, as SimpleSAMLphp's own
// metadata converter does (SimpleSAML\Metadata\SAMLParser, getMetadata20IdP, var_export).
// Usage: php idp_metadata.php <ssp dir> <metadata.xml> <out.php>; prints the IdP's entityID.
require $argv[1] . '/lib/_autoload.php';

$entities = \SimpleSAML\Metadata\SAMLParser::parseDescriptorsString(file_get_contents($argv[2]));
$out = "<?php\n// Generated from the broker's IdP metadata by tests/interop/simplesamlphp/idp_metadata.php.\n";
$first = null;
foreach ($entities as $entity) {
    $md = $entity->getMetadata20IdP();
    if ($md === null) {
        continue;
    }
    unset($md['entityDescriptor'], $md['expire']);
    $first = $first ?? $md['entityid'];
    $out .= '$metadata[' . var_export($md['entityid'], true) . '] = ' . var_export($md, true) . ";\n";
}
if ($first === null) {
    fwrite(STDERR, "no IdP in {$argv[2]}\n");
    exit(1);
}
file_put_contents($argv[3], $out);
echo $first, "\n";
