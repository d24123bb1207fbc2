//! The document stage: edits of the final Response XML, after everything is signed, encrypted
//! and assembled, just before it is base64-encoded into `SAMLResponse`.

/// `doctype`: a DOCTYPE declaring an external entity at `fetch_recorder_url` (the broker's
/// recorder for this flow, so a fetch is evidence), referenced in the Response's Issuer so a
/// parser that resolves entities fetches it. A safe SP refuses the DOCTYPE and fetches nothing.
pub(crate) fn doctype(response: &mut String, fetch_recorder_url: Option<&str>) {
    let url = fetch_recorder_url.unwrap_or("http://127.0.0.1:9/xxe");
    *response = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "{}">]>{}"#,
        crate::saml::xml::escape_attr(url),
        response
    );
    if let Some(pos) = response.find("</saml:Issuer>") {
        response.insert_str(pos, "&xxe;");
    }
}

/// `replace-text`: every occurrence of `find` replaced, for the shapes no other fault writes.
pub(crate) fn replace_text(response: &mut String, find: &str, replace: &str) {
    *response = response.replace(find, replace);
}

/// `void-c14n { on = "response" }`: the relative namespace declared on `samlp:Response`, the
/// ancestor of everything a verifier canonicalises (CVE-2025-66475's regression fixture puts
/// `xmlns:example="1"` there).
pub(crate) fn relative_namespace_on_response(response: &mut String) {
    *response = super::signed_assertion::declare_after(response, "<samlp:Response");
}
