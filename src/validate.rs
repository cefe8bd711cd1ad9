//! Every limit violation in a twin at once.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::check::collect_violations;
use crate::error::{Error, ErrorKind};
use crate::{Limits, Section, Twin};

/// Every violation of IoT Hub's limits ([`Limits::azure`]) in a twin, not just the first: key
/// and value rules in each section's content, then each section's size.
///
/// Paths are from the twin root (`/properties/desired/a b`); a size violation names the
/// section (`/tags`, `/properties/desired`). A twin the engine wrote is always valid; one read
/// from elsewhere may not be.
///
/// ```
/// let twin = twindoc::Twin::from_json(r#"{"deviceId": "d", "tags": {"a b": [1, null]}}"#)?;
/// let codes: Vec<_> = twindoc::validate(&twin).iter().map(|e| (e.code(), e.path().to_string())).collect();
/// assert_eq!(codes, [("InvalidKey", "/tags/a b".to_string()), ("NullInArray", "/tags/a b/1".to_string())]);
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn validate(twin: &Twin) -> Vec<Error> {
    let limits = Limits::azure();
    let mut found = Vec::new();
    for section in Section::ALL {
        found.extend(
            collect_violations(twin.content_value(section).as_object().into_iter().flatten(), &limits)
                .into_iter()
                .map(|e| e.under(section.pointer())),
        );
        if let Some(max) = limits.section_bytes(section) {
            let size = twin.size(section);
            if size > max {
                found.push(Error::new(
                    ErrorKind::SizeLimitExceeded,
                    section.pointer(),
                    format!("{section} is {size} bytes, over the limit of {max}"),
                ));
            }
        }
    }
    found
}

/// The answer of `validate` in the command line and in JavaScript: the violations of
/// [`validate`], serialized as `{"valid": bool, "violations": [{"code", "path", "message"}...]}`
/// (a violation without the status and error code an [`Error`] serializes with: nothing is
/// rejected, the twin is described).
///
/// ```
/// use twindoc::{Twin, ValidationReport};
/// let twin = Twin::from_json(r#"{"deviceId": "d", "tags": {"a b": 1}}"#)?;
/// let report = ValidationReport::of(&twin);
/// assert!(!report.is_valid());
/// assert_eq!(
///     serde_json::to_value(&report).unwrap(),
///     serde_json::json!({"valid": false, "violations": [
///         {"code": "InvalidKey", "path": "/tags/a b", "message": report.violations[0].message()}
///     ]})
/// );
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationReport {
    /// Every violation, in the order [`validate`] finds them.
    pub violations: Vec<Error>,
}

impl ValidationReport {
    /// The report on `twin` (see [`validate`]).
    pub fn of(twin: &Twin) -> Self {
        ValidationReport {
            violations: validate(twin),
        }
    }

    /// Whether the twin breaks no limit.
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

impl Serialize for ValidationReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// One violation as the report lists it.
        struct Violation<'a>(&'a Error);

        impl Serialize for Violation<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut out = serializer.serialize_struct("Violation", 3)?;
                out.serialize_field("code", self.0.code())?;
                out.serialize_field("path", self.0.path())?;
                out.serialize_field("message", self.0.message())?;
                out.end()
            }
        }

        let violations: Vec<Violation<'_>> = self.violations.iter().map(Violation).collect();
        let mut out = serializer.serialize_struct("ValidationReport", 2)?;
        out.serialize_field("valid", &self.is_valid())?;
        out.serialize_field("violations", &violations)?;
        out.end()
    }
}
