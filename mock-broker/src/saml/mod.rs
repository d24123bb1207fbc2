//! SAML 2.0 / OIOSAML 3 surface.
