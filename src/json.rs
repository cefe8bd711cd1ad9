//! JSON text in: the engine's bounds on what it parses.

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::Limits;

/// Parses JSON text as the engine does for every text input (twins, bodies, documents).
///
/// Text longer than [`Limits::max_input_bytes`] is refused unread, and text nested deeper than
/// serde_json's bound of 128 levels is refused without deep recursion; both, like malformed text,
/// are `InvalidJson`.
///
/// ```
/// let limits = twindoc::Limits::azure();
/// assert_eq!(twindoc::parse_json(r#"{"a": 1}"#, &limits)?, serde_json::json!({"a": 1}));
/// let deep = "[".repeat(100_000);
/// assert_eq!(twindoc::parse_json(&deep, &limits).unwrap_err().code(), "InvalidJson");
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn parse_json(text: &str, limits: &Limits) -> Result<Value, Error> {
    let max = limits.max_input_bytes();
    if text.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidJson,
            "",
            format!("the input is {} bytes, over the engine's maximum of {max}", text.len()),
        ));
    }
    serde_json::from_str(text).map_err(|e| Error::new(ErrorKind::InvalidJson, "", format!("malformed JSON: {e}")))
}
