//! Namespace URIs, format URIs, algorithm URIs and OIOSAML 3 attribute names.
//!
//! Every protocol string the broker emits or checks is spelled once, here.

/// SAML 2.0 assertion namespace.
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace.
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 metadata namespace.
pub const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace.
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML-Enc namespace.
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML-Enc 1.1 namespace.
pub const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
/// XML Schema instance namespace.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XML Schema namespace.
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// HTTP-Redirect binding.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// SOAP binding.
pub const BINDING_SOAP: &str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";
/// HTTP-Artifact binding.
pub const BINDING_ARTIFACT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact";

/// Persistent NameID format.
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// Transient NameID format.
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
/// Entity NameID format (Issuer).
pub const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
/// Legacy NemID / OIOSAML 2 NameID format.
pub const NAMEID_X509_SUBJECT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
/// Unspecified NameID format.
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// Bearer subject confirmation.
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// URI attribute name format.
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
/// Basic attribute name format (OIOSAML 2).
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

/// Status: success.
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// Status: requester error.
pub const STATUS_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
/// Status: responder error.
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
/// Sub-status: authentication failed.
pub const STATUS_AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
/// Sub-status: no passive authentication possible.
pub const STATUS_NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
/// Sub-status: requested authn context not available.
pub const STATUS_NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
/// Sub-status: the requested NameID format is not offered (SAML core 3.2.2.2).
pub const STATUS_INVALID_NAME_ID_POLICY: &str =
    "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
/// Sub-status: partial logout.
pub const STATUS_PARTIAL_LOGOUT: &str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";

/// RSA-SHA256 signature method.
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// RSA-SHA1 signature method (legacy; refused on input).
pub const ALG_RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
/// SHA-256 digest.
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// SHA-1 digest (legacy).
pub const ALG_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
/// Exclusive canonicalisation.
pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Enveloped-signature transform.
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// AES-256-GCM data encryption (xmlenc 1.1).
pub const ENC_AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
/// AES-128-GCM data encryption (xmlenc 1.1).
pub const ENC_AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
/// AES-256-CBC data encryption.
pub const ENC_AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
/// AES-128-CBC data encryption.
pub const ENC_AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
/// RSA-OAEP key transport, xmlenc 1.1 (digest and MGF configurable).
pub const KT_RSA_OAEP_11: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
/// RSA-OAEP with MGF1-SHA1 key transport (xmlenc 1.0), what most SP libraries decrypt.
pub const KT_RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
/// RSA PKCS#1 v1.5 key transport (insecure; never chosen by default).
pub const KT_RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
/// MGF1 with SHA-256 (xmlenc 1.1).
pub const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
/// MGF1 with SHA-1 (xmlenc 1.1).
pub const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
/// EncryptedData Type for an element.
pub const XENC_TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";
/// EncryptedKey Type.
pub const XENC_TYPE_ENCRYPTED_KEY: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";

/// OIOSAML 3 attribute names (all with NameFormat uri).
pub mod attr {
    /// Specification version, value `OIO-SAML-3.0`.
    pub const SPEC_VERSION: &str = "https://data.gov.dk/model/core/specVersion";
    /// The OIOSAML 3 spec version value.
    pub const SPEC_VERSION_VALUE: &str = "OIO-SAML-3.0";
    /// Bootstrap token for OIO IDWS.
    pub const BOOTSTRAP_TOKEN: &str = "https://data.gov.dk/model/core/eid/bootstrapToken";
    /// OIO Basic Privilege Profile (public SPs only).
    pub const PRIVILEGES_INTERMEDIATE: &str =
        "https://data.gov.dk/model/core/eid/privilegesIntermediate";
    /// NSIS level of assurance (bare name value).
    pub const LOA: &str = "https://data.gov.dk/concept/core/nsis/loa";
    /// NSIS identity assurance level.
    pub const IAL: &str = "https://data.gov.dk/concept/core/nsis/ial";
    /// NSIS authenticator assurance level.
    pub const AAL: &str = "https://data.gov.dk/concept/core/nsis/aal";
    /// Full name.
    pub const FULL_NAME: &str = "https://data.gov.dk/model/core/eid/fullName";
    /// First name(s).
    pub const FIRST_NAME: &str = "https://data.gov.dk/model/core/eid/firstName";
    /// Last name.
    pub const LAST_NAME: &str = "https://data.gov.dk/model/core/eid/lastName";
    /// Alias (name-protected persons).
    pub const ALIAS: &str = "https://data.gov.dk/model/core/eid/alias";
    /// Email (may be multi-valued).
    pub const EMAIL: &str = "https://data.gov.dk/model/core/eid/email";
    /// CPR number (public SPs only).
    pub const CPR_NUMBER: &str = "https://data.gov.dk/model/core/eid/cprNumber";
    /// Age.
    pub const AGE: &str = "https://data.gov.dk/model/core/eid/age";
    /// CPR UUID.
    pub const CPR_UUID: &str = "https://data.gov.dk/model/core/eid/cprUuid";
    /// Date of birth.
    pub const DATE_OF_BIRTH: &str = "https://data.gov.dk/model/core/eid/dateOfBirth";
    /// Legacy PID (deprecated).
    pub const PERSON_PID: &str = "https://data.gov.dk/model/core/eid/person/pid";
    /// Persistent professional UUID.
    pub const PROFESSIONAL_UUID: &str =
        "https://data.gov.dk/model/core/eid/professional/uuid/persistent";
    /// Legacy RID (deprecated).
    pub const PROFESSIONAL_RID: &str = "https://data.gov.dk/model/core/eid/professional/rid";
    /// CVR of the professional's organisation.
    pub const PROFESSIONAL_CVR: &str = "https://data.gov.dk/model/core/eid/professional/cvr";
    /// Organisation name.
    pub const PROFESSIONAL_ORG_NAME: &str =
        "https://data.gov.dk/model/core/eid/professional/orgName";
    /// Production unit.
    pub const PROFESSIONAL_PRODUCTION_UNIT: &str =
        "https://data.gov.dk/model/core/eid/professional/productionUnit";
    /// SE number.
    pub const PROFESSIONAL_SE_NUMBER: &str =
        "https://data.gov.dk/model/core/eid/professional/seNumber";
    /// CVRs the professional may represent.
    pub const PROFESSIONAL_AUTHORIZED_TO_REPRESENT: &str =
        "https://data.gov.dk/model/core/eid/professional/authorizedToRepresent";

    /// Every OIOSAML 3 attribute with its FriendlyName, in metadata order.
    pub const ALL: &[(&str, &str)] = &[
        (SPEC_VERSION, "SpecVer"),
        (BOOTSTRAP_TOKEN, "BootstrapToken"),
        (PRIVILEGES_INTERMEDIATE, "Privileges"),
        (LOA, "NSISLevelOfAssurance"),
        (IAL, "IdentityAssuranceLevel"),
        (AAL, "AuthenticationAssuranceLevel"),
        (FULL_NAME, "FullName"),
        (FIRST_NAME, "FirstName"),
        (LAST_NAME, "LastName"),
        (ALIAS, "Alias"),
        (EMAIL, "Email"),
        (CPR_NUMBER, "CPRNumber"),
        (AGE, "Age"),
        (CPR_UUID, "CPRUUID"),
        (DATE_OF_BIRTH, "DateOfBirth"),
        (PERSON_PID, "PID"),
        (PROFESSIONAL_UUID, "ProfessionalPersistentUUID"),
        (PROFESSIONAL_RID, "RID"),
        (PROFESSIONAL_CVR, "CVR"),
        (PROFESSIONAL_ORG_NAME, "OrganizationName"),
        (PROFESSIONAL_PRODUCTION_UNIT, "ProductionUnit"),
        (PROFESSIONAL_SE_NUMBER, "SENumber"),
        (
            PROFESSIONAL_AUTHORIZED_TO_REPRESENT,
            "AuthorizedToRepresent",
        ),
    ];

    /// Friendly name for an OIOSAML 3 attribute name.
    pub fn friendly_name(name: &str) -> Option<&'static str> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// Legacy NemID / OIOSAML 2 (DK-SAML-2.0) vocabulary, used only to build legacy assertions
/// that SPs must reject.
pub mod legacy {
    /// Legacy spec version attribute.
    pub const SPEC_VER: &str = "dk:gov:saml:attribute:SpecVer";
    /// Its value.
    pub const SPEC_VER_VALUE: &str = "DK-SAML-2.0";
    /// Legacy assurance level (integer; NemID logins = 3).
    pub const ASSURANCE_LEVEL: &str = "dk:gov:saml:attribute:AssuranceLevel";
    /// CPR.
    pub const CPR: &str = "dk:gov:saml:attribute:CprNumberIdentifier";
    /// CVR.
    pub const CVR: &str = "dk:gov:saml:attribute:CvrNumberIdentifier";
    /// PID.
    pub const PID: &str = "dk:gov:saml:attribute:PidNumberIdentifier";
    /// RID.
    pub const RID: &str = "dk:gov:saml:attribute:RidNumberIdentifier";
    /// Youth certificate flag.
    pub const IS_YOUTH_CERT: &str = "dk:gov:saml:attribute:IsYouthCert";
    /// Common name.
    pub const CN: &str = "urn:oid:2.5.4.3";
    /// Surname.
    pub const SURNAME: &str = "urn:oid:2.5.4.4";
    /// Email.
    pub const MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
    /// uid (`PID:...` or `CVR:...-RID:...`).
    pub const UID: &str = "urn:oid:0.9.2342.19200300.100.1.1";
    /// Organisation name.
    pub const ORG_NAME: &str = "urn:oid:2.5.4.10";
    /// Certificate serial number.
    pub const SERIAL: &str = "urn:oid:2.5.4.5";
    /// Certificate issuer DN.
    pub const CERT_ISSUER: &str = "urn:oid:2.5.29.29";
    /// OCES user certificate.
    pub const USER_CERTIFICATE: &str = "urn:oid:1.3.6.1.4.1.1466.115.121.1.8";
    /// NemID key card credential type (NemLog-in3 transition).
    pub const CRED_NEMID_KEYCARD: &str =
        "https://nemlogin.dk/internal/credential/type/nemidkeycard";
    /// NemID key file credential type.
    pub const CRED_NEMID_KEYFILE: &str =
        "https://nemlogin.dk/internal/credential/type/nemidkeyfile";
    /// OIOSAML 2 era X509 authn context class.
    pub const AC_X509: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509";
    /// OIOSAML 2 era password authn context class.
    pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
}

/// The AuthnContextClassRef the mock puts in AuthnStatements for NSIS logins (UNCONFIRMED for
/// NemLog-in itself; OS2faktor's NSIS IdP convention, and SPs should rely on the `nsis/loa`
/// attribute instead).
pub const AC_NSIS: &str = "https://data.gov.dk/concept/core/nsis";
