//! Options the front ends share, read the same way by the command line and by JavaScript: the
//! limits of a write as overrides of a base, and a time given as text or milliseconds.

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::{Limits, Timestamp};

/// The limits [`LimitsOverrides`] start from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitsBase {
    /// IoT Hub's limits, [`Limits::azure`] (the default).
    #[default]
    Azure,
    /// No numeric limits, [`Limits::none`].
    None,
}

impl LimitsBase {
    /// The limits of the base.
    pub fn limits(self) -> Limits {
        match self {
            LimitsBase::Azure => Limits::azure(),
            LimitsBase::None => Limits::none(),
        }
    }
}

/// The limits of a write as a base and the numbers that differ from it: the command line's
/// `--no-limits`, `--max-key-bytes`... and JavaScript's `limits` option, read by one rule so that
/// both accept the same combinations.
///
/// As JSON (the JavaScript option, or any `serde` format) it is `"azure"`, `"none"`, or an object
/// `{"base", "maxKeyBytes", "maxValueBytes", "maxDepth", "tagsBytes", "desiredBytes",
/// "reportedBytes"}` whose members are all optional (`null` counts as absent, unknown members are
/// ignored); `base` is `"azure"` (the default) or `"none"`.
///
/// ```
/// use serde_json::json;
/// use twindoc::{Limits, LimitsBase, LimitsOverrides};
/// let overrides = LimitsOverrides::from_json(&json!({"base": "none", "maxValueBytes": 10}), "/limits")?;
/// assert_eq!(overrides.base, LimitsBase::None);
/// assert_eq!(overrides.to_limits(), Limits::none().with_max_value_bytes(10));
/// assert_eq!(LimitsOverrides::from_json(&json!("azure"), "")?.to_limits(), Limits::azure());
///
/// let bad = LimitsOverrides::from_json(&json!({"maxDepth": -1}), "/limits").unwrap_err();
/// assert_eq!((bad.code(), bad.path()), ("InvalidArgument", "/limits/maxDepth"));
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsOverrides {
    /// The limits the overrides apply to.
    pub base: LimitsBase,
    /// The longest key, in UTF-8 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_key_bytes: Option<usize>,
    /// The longest string value, in UTF-8 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_value_bytes: Option<usize>,
    /// The deepest object or array, the section root being depth 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
    /// The largest tags section, in S4 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_bytes: Option<u64>,
    /// The largest desired section, in S4 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_bytes: Option<u64>,
    /// The largest reported section, in S4 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_bytes: Option<u64>,
}

impl LimitsOverrides {
    /// The limits: the base's, with each number given replaced.
    pub fn to_limits(&self) -> Limits {
        let mut limits = self.base.limits();
        if let Some(n) = self.max_key_bytes {
            limits = limits.with_max_key_bytes(n);
        }
        if let Some(n) = self.max_value_bytes {
            limits = limits.with_max_value_bytes(n);
        }
        if let Some(n) = self.max_depth {
            limits = limits.with_max_depth(n);
        }
        if let Some(n) = self.tags_bytes {
            limits = limits.with_tags_bytes(n);
        }
        if let Some(n) = self.desired_bytes {
            limits = limits.with_desired_bytes(n);
        }
        if let Some(n) = self.reported_bytes {
            limits = limits.with_reported_bytes(n);
        }
        limits
    }

    /// Reads the option from its JSON form (see the type), found at `path` (a JSON Pointer among
    /// the caller's options, e.g. `/limits`, or `""`). Anything else is
    /// [`ErrorKind::InvalidArgument`] at the path of the offending member.
    pub fn from_json(value: &Value, path: &str) -> Result<Self, Error> {
        let members = match value {
            Value::Null => return Ok(LimitsOverrides::default()),
            Value::String(name) => {
                return base(name)
                    .map(LimitsOverrides::from)
                    .ok_or_else(|| argument(path, format!("limits {name:?} is neither \"azure\" nor \"none\"")))
            }
            Value::Object(members) => members,
            _ => {
                return Err(argument(
                    path,
                    "limits must be \"azure\", \"none\" or an object of limits",
                ))
            }
        };
        let present = |name: &str| members.get(name).filter(|value| !value.is_null());
        let count = |name: &str| -> Result<Option<u64>, Error> {
            present(name)
                .map(|value| {
                    value.as_u64().ok_or_else(|| {
                        let at = format!("{path}/{name}");
                        argument(&at, format!("{at} must be a whole non-negative number"))
                    })
                })
                .transpose()
        };
        let size = |name: &str| count(name).map(|n| n.map(|n| usize::try_from(n).unwrap_or(usize::MAX)));
        let base = match present("base") {
            None => LimitsBase::default(),
            Some(value) => value.as_str().and_then(base).ok_or_else(|| {
                let at = format!("{path}/base");
                argument(&at, format!("{at} must be \"azure\" or \"none\""))
            })?,
        };
        Ok(LimitsOverrides {
            base,
            max_key_bytes: size("maxKeyBytes")?,
            max_value_bytes: size("maxValueBytes")?,
            max_depth: size("maxDepth")?,
            tags_bytes: count("tagsBytes")?,
            desired_bytes: count("desiredBytes")?,
            reported_bytes: count("reportedBytes")?,
        })
    }
}

fn base(name: &str) -> Option<LimitsBase> {
    match name {
        "azure" => Some(LimitsBase::Azure),
        "none" => Some(LimitsBase::None),
        _ => None,
    }
}

fn argument(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, path, message)
}

impl From<LimitsBase> for LimitsOverrides {
    fn from(base: LimitsBase) -> Self {
        LimitsOverrides {
            base,
            ..LimitsOverrides::default()
        }
    }
}

impl<'de> Deserialize<'de> for LimitsOverrides {
    /// Through [`LimitsOverrides::from_json`], so that every format reads the option alike.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LimitsOverrides::from_json(&Value::deserialize(deserializer)?, "").map_err(serde::de::Error::custom)
    }
}

/// The time of a write as a user gives it: RFC 3339 text or Unix milliseconds (the command
/// line's `--now`, JavaScript's `now`), turned into a [`Timestamp`] by [`TimeInput::timestamp`].
///
/// Text is read by [`FromStr`]: all digits, with an optional leading `-`, is milliseconds,
/// anything else RFC 3339 text. As JSON it is a string read the same way, or a number.
///
/// ```
/// use twindoc::TimeInput;
/// let millis: TimeInput = "1767225600123".parse()?;
/// assert_eq!(millis, TimeInput::UnixMillis(1_767_225_600_123));
/// assert_eq!(millis.timestamp()?.to_string(), "2026-01-01T00:00:00.1230000Z");
/// let text: TimeInput = "2026-01-01T02:00:00+02:00".parse()?;
/// assert_eq!(text.timestamp()?.to_string(), "2026-01-01T00:00:00.0000000Z");
/// assert_eq!("yesterday".parse::<TimeInput>()?.timestamp().unwrap_err().code(), "InvalidTimestamp");
/// assert_eq!(TimeInput::from_unix_millis_f64(1.5).unwrap_err().code(), "InvalidTimestamp");
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TimeInput {
    /// RFC 3339 text, not yet checked (see [`Timestamp::parse_rfc3339`]).
    Rfc3339(String),
    /// Milliseconds since the Unix epoch, negative before it.
    UnixMillis(i64),
}

impl TimeInput {
    /// The instant; [`ErrorKind::InvalidTimestamp`] for text that is not RFC 3339 or a time
    /// outside the years 0000 to 9999.
    pub fn timestamp(&self) -> Result<Timestamp, Error> {
        match self {
            TimeInput::Rfc3339(text) => Timestamp::parse_rfc3339(text),
            TimeInput::UnixMillis(millis) => Timestamp::from_unix_millis(*millis),
        }
    }

    /// Milliseconds given as a floating-point number (a JavaScript number or `Date`, a JSON
    /// number with a fraction): it must be finite and whole, else
    /// [`ErrorKind::InvalidTimestamp`].
    pub fn from_unix_millis_f64(millis: f64) -> Result<Self, Error> {
        // 9e15 ms is far beyond the year 9999 yet exact in an f64: the cast below cannot saturate.
        if !millis.is_finite() || millis.fract() != 0.0 || millis.abs() > 9e15 {
            return Err(Error::new(
                ErrorKind::InvalidTimestamp,
                "",
                "a time is RFC 3339 text or whole Unix milliseconds",
            ));
        }
        Ok(TimeInput::UnixMillis(millis as i64))
    }
}

impl FromStr for TimeInput {
    type Err = Error;

    /// Milliseconds when the text is all digits (after an optional `-`), else RFC 3339 text;
    /// digits beyond the range of an `i64` are [`ErrorKind::InvalidTimestamp`].
    fn from_str(text: &str) -> Result<Self, Error> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(TimeInput::Rfc3339(text.to_owned()));
        }
        text.parse().map(TimeInput::UnixMillis).map_err(|_| {
            Error::new(
                ErrorKind::InvalidTimestamp,
                "",
                format!("{text} Unix milliseconds is out of range"),
            )
        })
    }
}

impl Serialize for TimeInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TimeInput::Rfc3339(text) => serializer.serialize_str(text),
            TimeInput::UnixMillis(millis) => serializer.serialize_i64(*millis),
        }
    }
}

impl<'de> Deserialize<'de> for TimeInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::String(text) => text.parse().map_err(D::Error::custom),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(millis), _) => Ok(TimeInput::UnixMillis(millis)),
                (None, Some(millis)) => TimeInput::from_unix_millis_f64(millis).map_err(D::Error::custom),
                (None, None) => Err(D::Error::custom("the time is not a number in range")),
            },
            _ => Err(D::Error::custom("a time is RFC 3339 text or Unix milliseconds")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn limits_read_every_member_and_refuse_bad_ones() {
        let all = json!({"base": "none", "maxKeyBytes": 1, "maxValueBytes": 2, "maxDepth": 3,
            "tagsBytes": 4, "desiredBytes": 5, "reportedBytes": 6, "unknown": true});
        let overrides = LimitsOverrides::from_json(&all, "").unwrap();
        let expected = Limits::none()
            .with_max_key_bytes(1)
            .with_max_value_bytes(2)
            .with_max_depth(3)
            .with_tags_bytes(4)
            .with_desired_bytes(5)
            .with_reported_bytes(6);
        assert_eq!(overrides.to_limits(), expected);
        let round_trip: LimitsOverrides = serde_json::from_value(serde_json::to_value(overrides).unwrap()).unwrap();
        assert_eq!(round_trip, overrides);
        assert_eq!(
            LimitsOverrides::from_json(&json!({"maxDepth": null}), "").unwrap(),
            LimitsOverrides::default()
        );
        for (bad, path) in [
            (json!("loose"), "/limits"),
            (json!(5), "/limits"),
            (json!({"base": "huge"}), "/limits/base"),
            (json!({"tagsBytes": 1.5}), "/limits/tagsBytes"),
            (json!({"maxKeyBytes": "3"}), "/limits/maxKeyBytes"),
        ] {
            let error = LimitsOverrides::from_json(&bad, "/limits").unwrap_err();
            assert_eq!(
                (error.kind(), error.path()),
                (ErrorKind::InvalidArgument, path),
                "{bad}"
            );
        }
    }

    #[test]
    fn times_as_text_or_numbers() {
        assert_eq!("-1".parse::<TimeInput>().unwrap(), TimeInput::UnixMillis(-1));
        assert_eq!("-".parse::<TimeInput>().unwrap(), TimeInput::Rfc3339("-".into()));
        let too_far = "99999999999999999999999".parse::<TimeInput>().unwrap_err();
        assert_eq!(too_far.kind(), ErrorKind::InvalidTimestamp);
        let time: TimeInput = serde_json::from_value(json!(1_767_225_600_123_i64)).unwrap();
        assert_eq!(time, TimeInput::UnixMillis(1_767_225_600_123));
        let time: TimeInput = serde_json::from_value(json!("1767225600123")).unwrap();
        assert_eq!(time, TimeInput::UnixMillis(1_767_225_600_123));
        assert!(serde_json::from_value::<TimeInput>(json!(0.5)).is_err());
        for millis in [f64::NAN, f64::INFINITY, 0.5, 1e16] {
            assert!(TimeInput::from_unix_millis_f64(millis).is_err(), "{millis}");
        }
        assert_eq!(
            TimeInput::from_unix_millis_f64(-3.0).unwrap(),
            TimeInput::UnixMillis(-3)
        );
    }
}
