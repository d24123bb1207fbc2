<?php
// Router of PHP's built-in server for one SimpleSAMLphp row (document root: SimpleSAMLphp's www/).
// /login and /whoami are the small application (app.php); every other path is SimpleSAMLphp's own
// (module.php/saml/sp/... with PATH_INFO), served as the built-in server serves it.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/login' || $path === '/whoami' || $path === '/metadata') {
    require __DIR__ . '/app.php';
    return true;
}
return false;
