//! [`ModelPath`]: the fields of the response model that [`Fault::Set`](super::Fault::Set) and
//! [`Fault::Remove`](super::Fault::Remove) address, by their dotted names.
//!
//! A path is parsed when the fault is deserialised, not when it is minted: a typo in a user's
//! scenario file then fails while the catalogue loads, and toml's error names the file and line,
//! instead of surfacing as a mint error in the middle of a run.

use super::FaultError;
use crate::saml::assertion::{
    AssertionModel, IssuerModel, ResponseModel, SubjectConfirmationDataModel,
    SubjectConfirmationModel,
};
use std::fmt;
use std::str::FromStr;

/// Declares [`ModelPath`] with one name per variant, so the enum, [`ModelPath::ALL`] and
/// [`ModelPath::name`] cannot disagree: a new path is one line here, and the exhaustive match
/// in [`ModelPath::write`] then refuses to compile until the path does something.
macro_rules! model_paths {
    ($($variant:ident = $name:literal,)*) => {
        /// The model fields [`Fault::Set`](super::Fault::Set) and
        /// [`Fault::Remove`](super::Fault::Remove) can address. Written in scenarios by name
        /// (`assertion.conditions.not_on_or_after`, see [`ModelPath::ALL`]); an unknown name
        /// fails deserialisation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ModelPath {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl ModelPath {
            /// Every path with its name, for `explain` and error messages.
            pub const ALL: &'static [(&'static str, ModelPath)] =
                &[$(($name, ModelPath::$variant),)*];

            /// The path's name, as scenarios write it.
            pub fn name(self) -> &'static str {
                match self {
                    $(ModelPath::$variant => $name,)*
                }
            }
        }
    };
}

model_paths! {
    ResponseId = "response.id",
    ResponseVersion = "response.version",
    ResponseIssueInstant = "response.issue_instant",
    ResponseDestination = "response.destination",
    ResponseInResponseTo = "response.in_response_to",
    ResponseIssuer = "response.issuer",
    ResponseIssuerFormat = "response.issuer.format",
    ResponseStatus = "response.status",
    AssertionId = "assertion.id",
    AssertionVersion = "assertion.version",
    AssertionIssueInstant = "assertion.issue_instant",
    AssertionIssuer = "assertion.issuer",
    AssertionIssuerFormat = "assertion.issuer.format",
    Subject = "assertion.subject",
    NameId = "assertion.subject.name_id",
    NameIdFormat = "assertion.subject.name_id.format",
    NameIdNameQualifier = "assertion.subject.name_id.name_qualifier",
    SubjectConfirmation = "assertion.subject.confirmation",
    SubjectConfirmationMethod = "assertion.subject.confirmation.method",
    SubjectConfirmationData = "assertion.subject.confirmation.data",
    Recipient = "assertion.subject.confirmation.data.recipient",
    ConfirmationNotOnOrAfter = "assertion.subject.confirmation.data.not_on_or_after",
    ConfirmationNotBefore = "assertion.subject.confirmation.data.not_before",
    ConfirmationInResponseTo = "assertion.subject.confirmation.data.in_response_to",
    Conditions = "assertion.conditions",
    ConditionsNotBefore = "assertion.conditions.not_before",
    ConditionsNotOnOrAfter = "assertion.conditions.not_on_or_after",
    AudienceRestriction = "assertion.conditions.audience_restriction",
    Audience = "assertion.conditions.audience",
    AuthnStatement = "assertion.authn_statement",
    AuthnInstant = "assertion.authn_statement.authn_instant",
    SessionIndex = "assertion.authn_statement.session_index",
    SessionNotOnOrAfter = "assertion.authn_statement.session_not_on_or_after",
    AuthnContextClassRef = "assertion.authn_statement.class_ref",
    AttributeStatement = "assertion.attribute_statement",
}

impl ModelPath {
    /// Parse a path name (the same as `s.parse()`).
    pub fn parse(s: &str) -> Result<ModelPath, FaultError> {
        s.parse()
    }

    /// The names of all paths, comma-separated, for error messages.
    pub(crate) fn known_names() -> String {
        Self::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Write `value` at this path (`None` removes the element or XML attribute), in the
    /// response and in every assertion it holds.
    ///
    /// Paths that name an element (`assertion.conditions`, `response.status`, ...) can only be
    /// removed; setting one is [`FaultError::NotSettable`]. For assertion elements that check
    /// happens per assertion, so a plan that removed every assertion can still name one.
    /// A path into an element the model lacks (a NameID format when NameID is gone) is a no-op.
    pub(crate) fn write(
        self,
        model: &mut ResponseModel,
        value: Option<String>,
    ) -> Result<(), FaultError> {
        use ModelPath as P;
        let v = || value.clone();
        match self {
            // ---- the Response ----
            P::ResponseId => model.id = value,
            P::ResponseVersion => model.version = value,
            P::ResponseIssueInstant => model.issue_instant = value,
            P::ResponseDestination => model.destination = value,
            P::ResponseInResponseTo => model.in_response_to = value,
            P::ResponseIssuer => set_issuer(&mut model.issuer, value),
            P::ResponseIssuerFormat => {
                if let Some(i) = &mut model.issuer {
                    i.format = value
                }
            }
            P::ResponseStatus => match value {
                None => model.status = None,
                Some(_) => return Err(FaultError::NotSettable(self.name().into())),
            },
            // ---- each assertion: attributes ----
            P::AssertionId => each(model, |a| a.id = v()),
            P::AssertionVersion => each(model, |a| a.version = v()),
            P::AssertionIssueInstant => each(model, |a| a.issue_instant = v()),
            P::AssertionIssuer => each(model, |a| set_issuer(&mut a.issuer, v())),
            P::AssertionIssuerFormat => each(model, |a| {
                if let Some(i) = &mut a.issuer {
                    i.format = v()
                }
            }),
            P::NameId => each(model, |a| {
                if let Some(s) = &mut a.subject {
                    match v() {
                        None => s.name_id = None,
                        Some(text) => {
                            if let Some(n) = &mut s.name_id {
                                n.value = text
                            }
                        }
                    }
                }
            }),
            P::NameIdFormat => each(model, |a| {
                if let Some(n) = a.subject.as_mut().and_then(|s| s.name_id.as_mut()) {
                    n.format = v()
                }
            }),
            P::NameIdNameQualifier => each(model, |a| {
                if let Some(n) = a.subject.as_mut().and_then(|s| s.name_id.as_mut()) {
                    n.name_qualifier = v()
                }
            }),
            P::SubjectConfirmationMethod => each(model, |a| {
                confirmations(a).for_each(|c| c.method = v());
            }),
            P::Recipient => each(model, |a| {
                confirmation_data(a).for_each(|d| d.recipient = v());
            }),
            P::ConfirmationNotOnOrAfter => each(model, |a| {
                confirmation_data(a).for_each(|d| d.not_on_or_after = v());
            }),
            P::ConfirmationNotBefore => each(model, |a| {
                confirmation_data(a).for_each(|d| d.not_before = v());
            }),
            P::ConfirmationInResponseTo => each(model, |a| {
                confirmation_data(a).for_each(|d| d.in_response_to = v());
            }),
            P::ConditionsNotBefore => each(model, |a| {
                if let Some(c) = &mut a.conditions {
                    c.not_before = v()
                }
            }),
            P::ConditionsNotOnOrAfter => each(model, |a| {
                if let Some(c) = &mut a.conditions {
                    c.not_on_or_after = v()
                }
            }),
            // Every AudienceRestriction keeps exactly this one Audience (or none).
            P::Audience => each(model, |a| {
                for ar in a
                    .conditions
                    .iter_mut()
                    .flat_map(|c| c.audience_restrictions.iter_mut())
                {
                    match &value {
                        None => ar.clear(),
                        Some(text) => *ar = vec![text.clone()],
                    }
                }
            }),
            P::AuthnInstant => each(model, |a| {
                a.authn_statements
                    .iter_mut()
                    .for_each(|st| st.authn_instant = v());
            }),
            P::SessionIndex => each(model, |a| {
                a.authn_statements
                    .iter_mut()
                    .for_each(|st| st.session_index = v());
            }),
            P::SessionNotOnOrAfter => each(model, |a| {
                a.authn_statements
                    .iter_mut()
                    .for_each(|st| st.session_not_on_or_after = v());
            }),
            P::AuthnContextClassRef => each(model, |a| {
                a.authn_statements
                    .iter_mut()
                    .for_each(|st| st.class_ref = v());
            }),
            // ---- each assertion: whole elements, remove only ----
            P::Subject => self.remove_each(model, &value, |a| a.subject = None)?,
            P::SubjectConfirmation => self.remove_each(model, &value, |a| {
                if let Some(s) = &mut a.subject {
                    s.confirmations.clear()
                }
            })?,
            P::SubjectConfirmationData => self.remove_each(model, &value, |a| {
                confirmations(a).for_each(|c| c.data = None);
            })?,
            P::Conditions => self.remove_each(model, &value, |a| a.conditions = None)?,
            P::AudienceRestriction => self.remove_each(model, &value, |a| {
                if let Some(c) = &mut a.conditions {
                    c.audience_restrictions.clear()
                }
            })?,
            P::AuthnStatement => self.remove_each(model, &value, |a| a.authn_statements.clear())?,
            P::AttributeStatement => {
                self.remove_each(model, &value, |a| a.attribute_statements.clear())?
            }
        }
        Ok(())
    }

    /// Remove an element (`edit`) from every assertion; a value for it is
    /// [`FaultError::NotSettable`], but only when there is an assertion to set it in.
    fn remove_each(
        self,
        model: &mut ResponseModel,
        value: &Option<String>,
        edit: impl FnMut(&mut AssertionModel),
    ) -> Result<(), FaultError> {
        if value.is_some() && !model.assertions.is_empty() {
            return Err(FaultError::NotSettable(self.name().into()));
        }
        model.assertions.iter_mut().for_each(edit);
        Ok(())
    }
}

/// Apply `edit` to every assertion of the response.
fn each(model: &mut ResponseModel, edit: impl FnMut(&mut AssertionModel)) {
    model.assertions.iter_mut().for_each(edit);
}

/// Set or remove an Issuer's text; setting one that is absent creates it without a Format.
fn set_issuer(issuer: &mut Option<IssuerModel>, value: Option<String>) {
    match value {
        None => *issuer = None,
        Some(v) => match issuer {
            Some(i) => i.value = v,
            None => {
                *issuer = Some(IssuerModel {
                    value: v,
                    format: None,
                })
            }
        },
    }
}

fn confirmations(a: &mut AssertionModel) -> impl Iterator<Item = &mut SubjectConfirmationModel> {
    a.subject
        .iter_mut()
        .flat_map(|s| s.confirmations.iter_mut())
}

fn confirmation_data(
    a: &mut AssertionModel,
) -> impl Iterator<Item = &mut SubjectConfirmationDataModel> {
    confirmations(a).filter_map(|c| c.data.as_mut())
}

impl FromStr for ModelPath {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, p)| *p)
            .ok_or_else(|| FaultError::UnknownPath(s.to_string()))
    }
}

impl fmt::Display for ModelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for ModelPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// By name; an unknown name is a custom error, which toml reports with the file's line.
impl<'de> serde::Deserialize<'de> for ModelPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for (name, path) in ModelPath::ALL {
            assert_eq!(path.name(), *name);
            assert_eq!(name.parse::<ModelPath>(), Ok(*path));
            assert_eq!(path.to_string(), *name);
        }
        let mut names: Vec<_> = ModelPath::ALL.iter().map(|(n, _)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ModelPath::ALL.len());
    }

    #[test]
    fn unknown_names_are_refused_with_the_known_ones() {
        let e = "assertion.nope"
            .parse::<ModelPath>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown model path \"assertion.nope\""), "{e}");
        assert!(e.contains("assertion.conditions.not_on_or_after"), "{e}");
        assert!("".parse::<ModelPath>().is_err());
        assert!("Assertion.ID".parse::<ModelPath>().is_err());
    }

    #[test]
    fn serde_uses_the_name() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct W {
            path: ModelPath,
        }
        let w: W = toml::from_str(r#"path = "assertion.subject.name_id""#).unwrap();
        assert_eq!(w.path, ModelPath::NameId);
        assert_eq!(
            toml::to_string(&w).unwrap().trim(),
            r#"path = "assertion.subject.name_id""#
        );
        let e = toml::from_str::<W>("\n\npath = \"assertion.nope\"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("unknown model path"), "{e}");
    }
}
