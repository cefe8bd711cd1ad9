//! The one error type of twindoc.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// What went wrong, with a stable name (see [`ErrorKind::name`]).
///
/// The names and their HTTP status / IoT Hub error codes are part of the public contract and
/// follow the table in [S3](crate::semantics#s3-validation).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The body (or a document that must be an object) is not a JSON object.
    NotAnObject,
    /// A key is longer than the limit, in UTF-8 bytes.
    KeyTooLong,
    /// A key holds a forbidden character: a control character, `.`, `$`, `#` or a space.
    InvalidKey,
    /// A string value is longer than the limit, in UTF-8 bytes.
    ValueTooLong,
    /// An integer literal is outside ±2^52.
    IntegerOutOfRange,
    /// A `null` inside an array.
    NullInArray,
    /// An object or array nested deeper than the limit.
    TooDeep,
    /// The section would be larger than its limit (and larger than before).
    SizeLimitExceeded,
    /// The If-Match etag or the expected `$version` does not match.
    PreconditionFailed,
    /// The input is not well-formed JSON, or exceeds the engine's own bounds.
    InvalidJson,
    /// The document is not a well-formed twin (e.g. `$version` not an integer).
    InvalidTwin,
    /// A time is neither RFC 3339 text nor Unix milliseconds in range.
    InvalidTimestamp,
    /// An option, name or identifier given beside a document is not valid (a section name, a
    /// limits name or override, a precondition of the wrong type); nothing is wrong with a
    /// document. A bad time is [`ErrorKind::InvalidTimestamp`] instead.
    InvalidArgument,
    /// A query (or a target condition) is malformed (S11); the message names the character offset
    /// of the problem, and the path is empty.
    InvalidQuery,
    /// A configuration is malformed (S12); the path points into the configurations as given
    /// (`/0/priority` in an array, `/priority` for a single one).
    InvalidConfiguration,
}

impl ErrorKind {
    /// The stable name of the kind, e.g. `"InvalidKey"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::NotAnObject => "NotAnObject",
            ErrorKind::KeyTooLong => "KeyTooLong",
            ErrorKind::InvalidKey => "InvalidKey",
            ErrorKind::ValueTooLong => "ValueTooLong",
            ErrorKind::IntegerOutOfRange => "IntegerOutOfRange",
            ErrorKind::NullInArray => "NullInArray",
            ErrorKind::TooDeep => "TooDeep",
            ErrorKind::SizeLimitExceeded => "SizeLimitExceeded",
            ErrorKind::PreconditionFailed => "PreconditionFailed",
            ErrorKind::InvalidJson => "InvalidJson",
            ErrorKind::InvalidTwin => "InvalidTwin",
            ErrorKind::InvalidTimestamp => "InvalidTimestamp",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::InvalidQuery => "InvalidQuery",
            ErrorKind::InvalidConfiguration => "InvalidConfiguration",
        }
    }

    /// The HTTP status IoT Hub answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::SizeLimitExceeded => 403,
            ErrorKind::PreconditionFailed => 412,
            _ => 400,
        }
    }

    /// The IoT Hub error code (`errorCode` in its JSON error bodies).
    pub fn error_code(self) -> u32 {
        match self {
            ErrorKind::SizeLimitExceeded => 403100,
            ErrorKind::PreconditionFailed => 412001,
            ErrorKind::InvalidJson => 400006,
            _ => 400004,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rejected input or write: a kind, the JSON Pointer (RFC 6901) of the offending place and a
/// human message.
///
/// For writes the pointer is relative to the section root (`{"a": {"b.c": 1}}` gives `/a/b.c`);
/// for size limits and preconditions it is empty.
///
/// It serializes as the error line of the command line and the fields of a JavaScript
/// `TwinError`: `code`, `status`, `errorCode`, `path` and `message` (the message alone, without
/// the path).
///
/// ```
/// use twindoc::{Error, ErrorKind};
/// let error = Error::new(ErrorKind::InvalidKey, "/a/b c", "a key cannot hold a space");
/// assert_eq!(
///     serde_json::to_string(&error).unwrap(),
///     r#"{"code":"InvalidKey","status":400,"errorCode":400004,"path":"/a/b c","message":"a key cannot hold a space"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    path: String,
    message: String,
}

impl Error {
    /// An error of `kind` at `path` (a JSON Pointer), for callers that check input of their own
    /// (bindings, tools) and report it the same way.
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable name of the kind, e.g. `"InvalidKey"`.
    pub fn code(&self) -> &'static str {
        self.kind.name()
    }

    /// The JSON Pointer of the offending place (`""` for the whole document).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The HTTP status IoT Hub answers with (400, 403 or 412).
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The IoT Hub error code, e.g. 400004.
    pub fn error_code(&self) -> u32 {
        self.kind.error_code()
    }

    /// The human explanation, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `prefix` (a JSON Pointer) put in front of its path.
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.path.insert_str(0, prefix);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "the document root".to_string()
        } else {
            format!("\"{}\"", self.path)
        };
        write!(f, "{} at {}: {}", self.kind, at, self.message)
    }
}

impl std::error::Error for Error {}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Error", 5)?;
        out.serialize_field("code", self.code())?;
        out.serialize_field("status", &self.status())?;
        out.serialize_field("errorCode", &self.error_code())?;
        out.serialize_field("path", self.path())?;
        out.serialize_field("message", self.message())?;
        out.end()
    }
}

/// A path under construction while walking a document: the reference tokens from the root.
///
/// Kept as borrowed tokens so that the walk allocates nothing until an error needs the text.
#[derive(Default)]
pub(crate) struct PathStack<'a> {
    tokens: Vec<Token<'a>>,
}

#[derive(Clone, Copy)]
pub(crate) enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> PathStack<'a> {
    pub(crate) fn push(&mut self, token: Token<'a>) {
        self.tokens.push(token);
    }

    pub(crate) fn pop(&mut self) {
        self.tokens.pop();
    }

    /// The JSON Pointer text of the current position.
    pub(crate) fn pointer(&self) -> String {
        let mut out = String::new();
        for token in &self.tokens {
            out.push('/');
            match token {
                Token::Key(k) => crate::pointer::push_escaped(k, &mut out),
                Token::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_tilde_and_slash() {
        let mut p = PathStack::default();
        p.push(Token::Key("a/b"));
        p.push(Token::Key("c~d"));
        p.push(Token::Index(3));
        assert_eq!(p.pointer(), "/a~1b/c~0d/3");
    }

    #[test]
    fn codes_follow_the_spec_table() {
        let e = Error::new(ErrorKind::SizeLimitExceeded, "", "too big");
        assert_eq!(
            (e.status(), e.error_code(), e.code()),
            (403, 403100, "SizeLimitExceeded")
        );
        let e = Error::new(ErrorKind::PreconditionFailed, "", "etag");
        assert_eq!((e.status(), e.error_code()), (412, 412001));
        let e = Error::new(ErrorKind::InvalidJson, "", "bad");
        assert_eq!((e.status(), e.error_code()), (400, 400006));
        let e = Error::new(ErrorKind::InvalidKey, "/a/b c", "space");
        assert_eq!((e.status(), e.error_code()), (400, 400004));
        assert_eq!(e.to_string(), "InvalidKey at \"/a/b c\": space");
        let e = Error::new(ErrorKind::InvalidQuery, "", "unexpected end at character offset 6");
        assert_eq!((e.status(), e.error_code(), e.code()), (400, 400004, "InvalidQuery"));
        let e = Error::new(ErrorKind::InvalidConfiguration, "/0/priority", "negative");
        assert_eq!(
            (e.status(), e.error_code(), e.code()),
            (400, 400004, "InvalidConfiguration")
        );
    }
}
