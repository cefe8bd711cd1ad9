//! The device and module ids IoT Hub accepts.

use crate::error::{Error, ErrorKind};

/// The longest device or module id, in characters (all ASCII, so also in bytes).
pub const MAX_ID_CHARS: usize = 128;

/// The characters an id may hold besides ASCII letters and digits.
const ID_PUNCTUATION: &str = "-.+%_#*?!(),:=@$'";

/// Checks a device id as IoT Hub does when a device is registered: 1 to 128 characters, each an
/// ASCII letter or digit or one of `-.+%_#*?!(),:=@$'`. `InvalidArgument` (400 / 400004) at
/// the empty path otherwise.
///
/// [`Twin::new`](crate::Twin::new) takes any id, as a twin read from elsewhere may hold one; this
/// is for front ends that create twins from what a user typed.
///
/// ```
/// use twindoc::{check_device_id, ErrorKind};
/// check_device_id("thermostat-01")?;
/// check_device_id("site:7/a").unwrap_err(); // `/` is not allowed
/// let error = check_device_id("bad id").unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::InvalidArgument);
/// assert!(check_device_id(&"x".repeat(129)).is_err());
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn check_device_id(id: &str) -> Result<(), Error> {
    check_id("device id", id)
}

/// Checks a module id: the same rule as [`check_device_id`].
///
/// ```
/// twindoc::check_module_id("$edgeAgent")?;
/// assert!(twindoc::check_module_id("").is_err());
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn check_module_id(id: &str) -> Result<(), Error> {
    check_id("module id", id)
}

fn check_id(what: &str, id: &str) -> Result<(), Error> {
    let refused = |why: String| {
        let rule = format!("at most {MAX_ID_CHARS} ASCII letters, digits and {ID_PUNCTUATION}");
        Err(Error::new(
            ErrorKind::InvalidArgument,
            "",
            format!("the {what} {why}: it may hold {rule}"),
        ))
    };
    if id.is_empty() {
        return refused("is empty".into());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || ID_PUNCTUATION.contains(c);
    if let Some((at, c)) = id.chars().enumerate().find(|&(_, c)| !allowed(c)) {
        return refused(format!("holds {c:?} at character {}", at + 1));
    }
    let chars = id.chars().count();
    if chars > MAX_ID_CHARS {
        return refused(format!("is {chars} characters long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_character_passes_and_others_do_not() {
        check_device_id("aZ09-.+%_#*?!(),:=@$'").unwrap();
        check_device_id(&"d".repeat(MAX_ID_CHARS)).unwrap();
        for bad in ["a b", "a/b", "a\\b", "a\"b", "é", "a\u{0}", "a&b", "a;b", "", "\t"] {
            let error = check_device_id(bad).unwrap_err();
            assert_eq!(
                (error.kind(), error.path()),
                (ErrorKind::InvalidArgument, ""),
                "{bad:?}"
            );
        }
        let error = check_module_id(&"m".repeat(MAX_ID_CHARS + 1)).unwrap_err();
        assert!(
            error.message().contains("module id is 129 characters"),
            "{}",
            error.message()
        );
        let error = check_device_id("bad id").unwrap_err();
        assert!(error.message().contains("' ' at character 4"), "{}", error.message());
    }
}
