//! Placeholders in fault values: `{now}`, `{now+5m}`, `{now-2h.123}`, `{acs}`, `{sp}`, `{idp}`,
//! `{request_id}`.
//!
//! Scenarios are written once and run at any time against any SP, so a value that must be
//! "ten minutes ago" or "this SP's ACS" cannot be a literal; it is expanded from the model
//! context of the login being minted.

use super::FaultError;
use crate::saml::assertion::ModelContext;
use crate::saml::response::fmt_instant;

/// Split `now-5m.123` into `now-5m` and the fraction `123`. Only time placeholders take a
/// fraction; SAML allows any number of fractional digits, and SPs must accept them
/// (spid-sp-test case 110), so scenarios need to write them explicitly.
fn split_fraction<'a>(key: &'a str, value: &str) -> Result<(&'a str, Option<&'a str>), FaultError> {
    match key.split_once('.') {
        Some((k, f)) if k.starts_with("now") => {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FaultError::BadPlaceholder(
                    value.into(),
                    format!("the fraction in {{{key}}} must be 1 to 9 digits"),
                ));
            }
            Ok((k, Some(f)))
        }
        _ => Ok((key, None)),
    }
}

/// Expand `{now}`, `{now+5m}`, `{now-2h}`, `{now+1d}`, `{acs}`, `{sp}`, `{idp}`, `{request_id}`.
/// Time placeholders may carry a fraction of a second, added to the previous whole second:
/// `{now.123}` at 12:00:00 -> `...T11:59:59.123Z`.
pub fn expand_placeholders(value: &str, ctx: &ModelContext) -> Result<String, FaultError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| FaultError::BadPlaceholder(value.into(), "unclosed '{'".into()))?
            + start;
        let (key, fraction) = split_fraction(&rest[start + 1..end], value)?;
        let at = |t: time::OffsetDateTime| match fraction {
            None => fmt_instant(t),
            // The fraction is added to the *previous* whole second, so `{now.123}` is never
            // later than now (an SP with no allowance for the future must still accept it).
            Some(f) => {
                let whole = fmt_instant(
                    t - time::Duration::nanoseconds(i64::from(t.nanosecond()))
                        - time::Duration::seconds(1),
                );
                format!("{}.{f}Z", whole.trim_end_matches('Z'))
            }
        };
        let v = match key {
            "acs" => ctx.acs_url.clone(),
            "sp" => ctx.sp_entity_id.clone(),
            "idp" => ctx.idp_entity_id.clone(),
            "request_id" => ctx.in_response_to.clone().unwrap_or_default(),
            "now" => at(ctx.now),
            k if k.starts_with("now+") || k.starts_with("now-") => {
                let sign = if k.as_bytes()[3] == b'+' { 1 } else { -1 };
                let spec = &k[4..];
                let (num, unit) = spec.split_at(
                    spec.find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(spec.len()),
                );
                let n: i64 = num.parse().map_err(|_| {
                    FaultError::BadPlaceholder(value.into(), format!("bad number in {k}"))
                })?;
                let d = match unit {
                    "s" => time::Duration::seconds(n),
                    "m" => time::Duration::minutes(n),
                    "h" => time::Duration::hours(n),
                    "d" => time::Duration::days(n),
                    "y" => time::Duration::days(365 * n),
                    _ => {
                        return Err(FaultError::BadPlaceholder(
                            value.into(),
                            format!("unit in {k} must be s, m, h, d or y"),
                        ));
                    }
                };
                at(ctx.now + d * sign)
            }
            other => {
                return Err(FaultError::BadPlaceholder(
                    value.into(),
                    format!("unknown placeholder {{{other}}}"),
                ));
            }
        };
        out.push_str(&v);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let c = ModelContext {
            idp_entity_id: "I".into(),
            sp_entity_id: "S".into(),
            acs_url: "A".into(),
            in_response_to: Some("R".into()),
            now: time::macros::datetime!(2026-01-01 12:00 UTC),
            authn_instant: None,
            response_id: "_r".into(),
            assertion_id: "_a".into(),
            session_index: "_s".into(),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
            transient_name_id: None,
        };
        assert_eq!(
            expand_placeholders("{now-10m}", &c).unwrap(),
            "2026-01-01T11:50:00Z"
        );
        assert_eq!(
            expand_placeholders("x{acs}y{sp}{request_id}", &c).unwrap(),
            "xAySR"
        );
        assert_eq!(
            expand_placeholders("{now+1d}", &c).unwrap(),
            "2026-01-02T12:00:00Z"
        );
        assert!(expand_placeholders("{nope}", &c).is_err());
        assert!(expand_placeholders("{now+5q}", &c).is_err());
        assert!(expand_placeholders("{now", &c).is_err());
    }

    fn ctx() -> ModelContext {
        ModelContext {
            idp_entity_id: "https://idp.example".into(),
            sp_entity_id: "https://sp.example".into(),
            acs_url: "https://sp.example/acs".into(),
            in_response_to: Some("_req".into()),
            now: time::macros::datetime!(2026-01-01 12:00:00.987 UTC),
            authn_instant: None,
            response_id: "_r".into(),
            assertion_id: "_a".into(),
            session_index: "_s".into(),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
            transient_name_id: None,
        }
    }

    #[test]
    fn placeholder_fractions_replace_the_clock_fraction() {
        let c = ctx();
        assert_eq!(
            expand_placeholders("{now}", &c).unwrap(),
            "2026-01-01T12:00:00.987Z"
        );
        assert_eq!(
            expand_placeholders("{now.123}", &c).unwrap(),
            "2026-01-01T11:59:59.123Z"
        );
        assert_eq!(
            expand_placeholders("{now-5m.1234567}", &c).unwrap(),
            "2026-01-01T11:54:59.1234567Z"
        );
        assert!(expand_placeholders("{now.}", &c).is_err());
        assert!(expand_placeholders("{now.12a}", &c).is_err());
        assert!(expand_placeholders("{now.1234567890}", &c).is_err());
        assert!(expand_placeholders("{acs.1}", &c).is_err());
    }
}
