"""The MitID-specific checks a hardened Python SP adds before it creates a session.

SAML libraries verify signatures, audience and time; they know nothing of OIOSAML 3. A NemID-era
(OIOSAML 2) assertion or a non-NSIS login passes every generic check, so the application must
look at two attributes itself (OIOSAML 3.0.2 attribute profile; NemLog-in's OIOSAML.Java does the
same): the spec version, and the NSIS level of assurance compared with what the service needs.
"""

SPEC_VERSION = "https://data.gov.dk/model/core/specVersion"
NSIS_LOA = "https://data.gov.dk/concept/core/nsis/loa"
NAMEID_PREFIX = "https://data.gov.dk/model/core/eid/"

# The service requires Substantial; High is stronger and also acceptable.
ACCEPTED_LOA = ("Substantial", "High")


def _single(attributes, name):
    values = attributes.get(name) or []
    return values[0] if len(values) == 1 else None


def mitid_problem(name_id, attributes):
    """Why this login must not become a session, or None when it is a proper MitID login.

    `attributes` maps attribute Name (URI) to a list of string values, as both python3-saml
    and pysaml2 (with allow_unknown_attributes) return them.
    """
    if _single(attributes, SPEC_VERSION) != "OIO-SAML-3.0":
        return "not an OIOSAML 3.0 assertion (specVersion %r)" % (attributes.get(SPEC_VERSION),)
    loa = _single(attributes, NSIS_LOA)
    if loa not in ACCEPTED_LOA:
        return "NSIS LoA %r is below what the service requires" % (attributes.get(NSIS_LOA),)
    if not (name_id or "").startswith(NAMEID_PREFIX):
        return "NameID %r is not a MitID UUID identifier" % (name_id,)
    return None
