#!/bin/sh
# whoami for the Apache SPs (mellon, Shibboleth): the harness oracle reads "user=...".
# Only reached with a session: the SP module redirects to the IdP (3xx) without one.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'user=%s\n' "$REMOTE_USER"
env | grep -E '^(MELLON_|AUTH_TYPE|Shib_|persistent_id|specVersion|nsisLoa)' | sort
