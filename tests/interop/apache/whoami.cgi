#!/bin/sh
# whoami for the Apache SPs (mellon, Shibboleth): the harness oracle reads "user=...".
# Only reached with a session: the SP module redirects to the IdP (3xx) without one. A session
# whose REMOTE_USER is empty (the SP accepted an assertion it could not map to a user) is still
# a session, so it is reported as such rather than as a blank the oracle cannot read.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'user=%s\n' "${REMOTE_USER:-(session-without-remote-user)}"
env | grep -E '^(MELLON_|AUTH_TYPE|Shib_|persistent_id|specVersion|nsisLoa)' | sort
