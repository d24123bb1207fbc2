//! The model stage: faults that edit the response model before any XML exists.
//!
//! Whatever these change is then written, signed and encrypted like a correct login, so the
//! signature stays valid and only the SP's own check of the edited field can catch it. Each
//! function is one [`Fault`](super::Fault) variant, applied to every assertion the model holds.

use super::{FaultError, ModelPath, expand_placeholders};
use crate::identity::TestIdentity;
use crate::saml::assertion::{
    AttributeModel, ModelContext, ResponseModel, StatusModel, legacy_oiosaml2_response,
};

/// `set`: write `value` (placeholders expanded) at `path`.
pub(crate) fn set(
    model: &mut ResponseModel,
    ctx: &ModelContext,
    path: ModelPath,
    value: &str,
) -> Result<(), FaultError> {
    let value = expand_placeholders(value, ctx)?;
    path.write(model, Some(value))
}

/// `remove`: drop the element or XML attribute at `path`.
pub(crate) fn remove(model: &mut ResponseModel, path: ModelPath) -> Result<(), FaultError> {
    path.write(model, None)
}

/// `set-attribute`: replace or add an Attribute. `https://` names get the OIOSAML 3 (uri)
/// NameFormat, others the basic one of the NemID era, unless `name_format` says otherwise.
pub(crate) fn set_attribute(
    model: &mut ResponseModel,
    ctx: &ModelContext,
    name: &str,
    values: &[String],
    name_format: Option<&str>,
) -> Result<(), FaultError> {
    let values = values
        .iter()
        .map(|v| expand_placeholders(v, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let mut attr = if name.starts_with("https://") {
        AttributeModel::oiosaml3(name, values)
    } else {
        AttributeModel::legacy(name, values)
    };
    if let Some(f) = name_format {
        attr.name_format = Some(f.to_string());
    }
    for a in &mut model.assertions {
        a.set_attribute(attr.clone());
    }
    Ok(())
}

/// `remove-attribute`.
pub(crate) fn remove_attribute(model: &mut ResponseModel, name: &str) {
    for a in &mut model.assertions {
        a.remove_attribute(name);
    }
}

/// `remove-name-format`: the named Attribute's NameFormat, or every Attribute's when `name` is
/// `None`.
pub(crate) fn remove_name_format(model: &mut ResponseModel, name: Option<&str>) {
    for attr in model.assertions.iter_mut().flat_map(|a| a.attributes_mut()) {
        if name.is_none_or(|n| n == attr.name) {
            attr.name_format = None;
        }
    }
}

/// `add-audience`: one more Audience in the first AudienceRestriction, or in a restriction of
/// its own when `separate` (or when there is none). Two restrictions must both hold (SAML core
/// 2.5.1.4); two audiences in one restriction mean "either".
pub(crate) fn add_audience(
    model: &mut ResponseModel,
    ctx: &ModelContext,
    value: &str,
    separate: bool,
) -> Result<(), FaultError> {
    let v = expand_placeholders(value, ctx)?;
    for c in model
        .assertions
        .iter_mut()
        .filter_map(|a| a.conditions.as_mut())
    {
        if separate || c.audience_restrictions.is_empty() {
            c.audience_restrictions.push(vec![v.clone()]);
        } else {
            c.audience_restrictions[0].push(v.clone());
        }
    }
    Ok(())
}

/// `legacy-oiosaml2`: the NemID-era assertion for the same person replaces the OIOSAML 3 one;
/// the Response around it stays.
pub(crate) fn legacy_oiosaml2(
    model: &mut ResponseModel,
    ctx: &ModelContext,
    identity: &TestIdentity,
) {
    model.assertions = legacy_oiosaml2_response(ctx, identity).assertions;
}

/// `attribute-profile`: the assertion's attributes (and its AuthnContextClassRef) become
/// those of the 4.0 `profile` for the same identity and LoA, with the flow's specVersion
/// (or the default one on a 3.0.3 flow); the rest of the assertion stays.
pub(crate) fn attribute_profile(
    model: &mut ResponseModel,
    input: &crate::saml::mint::MintInput<'_>,
    profile: crate::saml::oiosaml4::AttributeProfile,
) {
    use crate::saml::oiosaml4::{DEFAULT_SPEC_VERSION, Oiosaml4Assertion, oiosaml4_response};
    let a = Oiosaml4Assertion {
        profile,
        spec_version: input.oiosaml4.as_ref().map_or_else(
            || DEFAULT_SPEC_VERSION.to_string(),
            |a| a.spec_version.clone(),
        ),
    };
    let r = oiosaml4_response(&input.ctx, input.identity, input.loa, &a);
    if let (Some(dst), Some(src)) = (model.assertions.first_mut(), r.assertions.first()) {
        dst.attribute_statements = src.attribute_statements.clone();
        dst.authn_statements = src.authn_statements.clone();
    }
}

/// `oiosaml303-assertion`: the OIOSAML 3.0.3 assertion for the same login replaces the 4.0
/// one; the Response around it stays.
pub(crate) fn oiosaml303_assertion(
    model: &mut ResponseModel,
    ctx: &ModelContext,
    identity: &TestIdentity,
    loa: crate::nsis::Loa,
) {
    model.assertions = crate::saml::assertion::oiosaml3_response(ctx, identity, loa).assertions;
}

/// `status`: the Response's Status.
pub(crate) fn status(
    model: &mut ResponseModel,
    code: &str,
    sub_code: Option<&str>,
    message: Option<&str>,
) {
    model.status = Some(StatusModel {
        code: Some(code.to_string()),
        sub_code: sub_code.map(str::to_string),
        message: message.map(str::to_string),
    });
}

/// `no-assertion`.
pub(crate) fn no_assertion(model: &mut ResponseModel) {
    model.assertions.clear();
}

/// `privileges`: the released `privilegesIntermediate` of every assertion that carries one
/// becomes the base64 `PrivilegeList` of `groups` (the IdP signs it after this stage). An
/// assertion without the attribute is left alone; a response where none carries it cannot
/// take the fault: NemLog-in releases privileges only to public SPs that request them, so a
/// list sent to any other SP would test something NemLog-in never sends.
pub(crate) fn privileges(
    model: &mut ResponseModel,
    groups: &[crate::saml::bpp::PrivilegeGroup],
) -> Result<(), FaultError> {
    use crate::saml::ns::attr::PRIVILEGES_INTERMEDIATE;
    let value = crate::saml::bpp::attribute_value(groups);
    let mut replaced = false;
    for attr in model
        .assertions
        .iter_mut()
        .flat_map(|a| a.attributes_mut())
        .filter(|a| a.name == PRIVILEGES_INTERMEDIATE)
    {
        attr.values = vec![value.clone()];
        replaced = true;
    }
    if replaced {
        Ok(())
    } else {
        Err(FaultError::NotApplicable(format!(
            "no {PRIVILEGES_INTERMEDIATE} was released to replace: NemLog-in releases OIO BPP privileges only to public SPs whose metadata requests the attribute, for an identity that holds privileges"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{IdentityKind, IdentityStore};
    use crate::saml::bpp::{self, PrivilegeGroup};
    use crate::saml::ns::attr::PRIVILEGES_INTERMEDIATE;
    use base64::Engine as _;

    fn decoded(m: &ResponseModel) -> String {
        let v = &m.assertions[0]
            .attribute(PRIVILEGES_INTERMEDIATE)
            .expect("released")
            .values;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&v[0])
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn privileges_replace_the_released_list_and_need_one() {
        let ids = IdentityStore::builtin();
        let pro = ids
            .iter()
            .find(|i| i.kind == IdentityKind::Professional && !i.privileges.is_empty())
            .expect("a builtin professional with privileges");
        let ctx = crate::saml::assertion::tests::ctx();
        let mut m =
            crate::saml::assertion::oiosaml3_response(&ctx, pro, crate::nsis::Loa::Substantial);
        assert!(decoded(&m).contains(&pro.privileges[0].scope));
        let groups = vec![PrivilegeGroup {
            scope: "urn:dk:gov:saml:cvrNumberIdentifier:9900000".into(),
            privileges: vec!["urn:dk:mock:privilege:x".into()],
            constraints: vec![],
        }];
        privileges(&mut m, &groups).unwrap();
        assert_eq!(decoded(&m), bpp::privilege_list_xml(&groups));
        // Released to nobody (an SP that did not request it): the fault cannot apply.
        remove_attribute(&mut m, PRIVILEGES_INTERMEDIATE);
        let e = privileges(&mut m, &groups).unwrap_err();
        assert!(matches!(e, FaultError::NotApplicable(_)), "{e}");
    }
}
