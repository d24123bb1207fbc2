"""The MitID checks a hardened OIDC RP adds before it creates a session (Signaturgruppen-style
broker claims).

OIDC libraries verify the token; they know nothing of MitID, so a NemID login (idp=nemid,
nemid.* claims, a NemID amr) or a login below the service's NSIS level passes every generic
check. Same rules as node/oidc_mitid_checks.js.
"""

NSIS = "https://data.gov.dk/concept/core/nsis/"
# The service requires Substantial; High is stronger and also acceptable.
ACCEPTED_LOA = (NSIS + "Substantial", NSIS + "High")
# The MitID-era lookup of the old NemID PID is allowed (it is not a NemID login).
ALLOWED_NEMID_CLAIMS = ("nemid.pid", "nemid.pid_status")


def mitid_problem(claims, userinfo=None):
    """Why these claims must not become a session, or None for a proper MitID login.

    `claims` is the identity: the ID token's claims merged over userinfo's (the ID token wins
    where both have a claim). `userinfo` is userinfo's own answer, scanned for NemID markers as
    well, so a NemID `amr` there is not hidden by the ID token's.
    """
    for c in (claims, userinfo or {}):
        legacy = sorted(k for k in c if k.startswith("nemid.") and k not in ALLOWED_NEMID_CLAIMS)
        if legacy:
            return "NemID claims " + ", ".join(legacy)
        amr = c.get("amr") or []
        if isinstance(amr, str):
            amr = [amr]
        if any(str(a).lower().startswith("nemid") for a in amr):
            return "NemID amr %r" % (c.get("amr"),)
    if claims.get("idp") != "mitid":
        return "idp %r is not mitid" % (claims.get("idp"),)
    if claims.get("identity_type") != "private":
        return "identity_type %r" % (claims.get("identity_type"),)
    if claims.get("loa") not in ACCEPTED_LOA:
        return "loa %r is below Substantial" % (claims.get("loa"),)
    if not claims.get("mitid.uuid"):
        return "no mitid.uuid"
    return None
