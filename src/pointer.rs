//! JSON Pointer (RFC 6901) reference tokens: the one place they are escaped and unescaped.
//!
//! Every path twindoc reports (an [`Error`](crate::Error)'s, a JSON Patch operation's) and every
//! pointer it reads ([`Twin::get`](crate::Twin::get), [`Twin::last_updated`](crate::Twin::last_updated))
//! goes through these functions, and so do the bindings, so that `a/b` is `a~1b` everywhere.

use std::borrow::Cow;

/// One reference token of a JSON Pointer, escaped: `~` as `~0`, `/` as `~1` (RFC 6901 §3).
/// Borrowed when there is nothing to escape.
///
/// ```
/// use twindoc::escape_pointer_token;
/// assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
/// assert_eq!(format!("/{}", escape_pointer_token("plain")), "/plain");
/// ```
pub fn escape_pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        let mut out = String::with_capacity(token.len() + 2);
        push_escaped(token, &mut out);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(token)
    }
}

/// One reference token of a JSON Pointer, unescaped: `~1` as `/`, then `~0` as `~` (RFC 6901
/// §4, in that order, so that `~01` is `~1`). A `~` followed by anything else is kept as it is.
///
/// ```
/// use twindoc::unescape_pointer_token;
/// assert_eq!(unescape_pointer_token("a~1b~0c"), "a/b~c");
/// assert_eq!(unescape_pointer_token("~01"), "~1");
/// ```
pub fn unescape_pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Appends `token`, escaped, to `out` (for paths built token by token without a copy each).
pub(crate) fn push_escaped(token: &str, out: &mut String) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_unescape_are_inverse() {
        for token in ["", "a", "a/b", "~", "~0", "~1", "/~/", "x~/y"] {
            let escaped = escape_pointer_token(token);
            assert_eq!(unescape_pointer_token(&escaped), token, "{token:?}");
        }
        assert!(matches!(escape_pointer_token("plain"), Cow::Borrowed(_)));
        assert_eq!(unescape_pointer_token("~2"), "~2");
    }
}
