//! The AppSwitch extension of an AuthnRequest: an SP's mobile app asks NemLog-in to switch
//! back to it (not to a browser) after the MitID app.
//!
//! `samlp:Extensions/AppSwitch` in the namespace `https://data.gov.dk/eid/saml/extensions`, with
//! `Platform` (`Android` or `iOS`) and `ReturnURL` (added in digst OIOSAML.Java 3.2.1 and
//! OIOSAML.Net 3.0.4). The element names follow those libraries' request builders as described
//! in their release notes; the schema itself was not found in a public source (unconfirmed).
//! The mock accepts the extension (NemLog-in does), records what it says in the flow record,
//! and otherwise answers as for a browser: the switch itself happens on the phone, outside
//! SAML.

use super::ns;
use super::xml::{child, text_of};
use serde::{Deserialize, Serialize};

/// The namespace of NemLog-in's AuthnRequest extensions.
pub const NS_EXTENSIONS: &str = "https://data.gov.dk/eid/saml/extensions";

/// What an AppSwitch extension asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSwitch {
    /// `Platform` as written (`Android`, `iOS`).
    pub platform: Option<String>,
    /// `ReturnURL` as written.
    pub return_url: Option<String>,
}

impl AppSwitch {
    /// Whether `Platform` is one NemLog-in knows.
    pub fn platform_known(&self) -> bool {
        matches!(self.platform.as_deref(), Some("Android" | "iOS"))
    }
}

/// Read the AppSwitch extension of an AuthnRequest root element, if there is one.
pub fn read(root: roxmltree::Node<'_, '_>) -> Option<AppSwitch> {
    let ext = child(root, ns::SAMLP, "Extensions")?;
    let sw = child(ext, NS_EXTENSIONS, "AppSwitch")?;
    let text = |name: &str| child(sw, NS_EXTENSIONS, name).map(|n| text_of(n).trim().to_string());
    Some(AppSwitch {
        platform: text("Platform"),
        return_url: text("ReturnURL"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_is_read_and_absent_is_none() {
        let xml = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="{}"><samlp:Extensions><e:AppSwitch xmlns:e="{NS_EXTENSIONS}"><e:Platform>iOS</e:Platform><e:ReturnURL>https://app.example/return</e:ReturnURL></e:AppSwitch></samlp:Extensions></samlp:AuthnRequest>"#,
            ns::SAMLP
        );
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let sw = read(doc.root_element()).unwrap();
        assert_eq!(sw.platform.as_deref(), Some("iOS"));
        assert_eq!(sw.return_url.as_deref(), Some("https://app.example/return"));
        assert!(sw.platform_known());
        let plain = format!(r#"<samlp:AuthnRequest xmlns:samlp="{}"/>"#, ns::SAMLP);
        let doc = roxmltree::Document::parse(&plain).unwrap();
        assert_eq!(read(doc.root_element()), None);
    }
}
