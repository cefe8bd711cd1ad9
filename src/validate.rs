//! Every limit violation in a twin at once.

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
