//! JavaScript values in and out (S10 of `../../../docs/semantics.md`).
//!
//! A JavaScript value must mean exactly what the same JSON text means to the native engine. It
//! is walked here, bounded in depth, rather than passed through `JSON.stringify`, which would turn
//! `NaN` into `null` (a deletion) and loop or overflow on deep or cyclic objects.

use js_sys::{Array, JsString, Object, Reflect, Uint8Array, JSON};
use serde_json::{Map, Value};
use twindoc::{Error, ErrorKind, Limits};
use wasm_bindgen::{JsCast, JsValue};

/// How deep a value crossing the boundary may nest: as deep as JSON text may (serde_json parses
/// at most 127 objects or arrays within one another), so that a value and its text fail alike.
/// Past it the value is `InvalidJson` with the empty path, as the text's parse error is; short
/// of it, the engine's own rules (`TooDeep`, its nesting bound of [`twindoc::MAX_NESTING`])
/// answer, as they do for the text.
const MAX_JS_DEPTH: usize = 127;

/// 2^53: integral numbers at or beyond it are no longer exact in JavaScript.
const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A JSON document given as text (a string, or its UTF-8 bytes in a `Uint8Array`; parsed as the
/// native engine parses text) or as a JavaScript value (converted by the S10 rules).
pub(crate) fn input(value: &JsValue, limits: &Limits) -> Result<Value, Error> {
    match text(value)? {
        Some(text) => twindoc::parse_json(&text, limits),
        None => from_js(value),
    }
}

/// A write's body: text as `parse_body_json` reads it (an integer literal past 64 bits left to
/// the write's range rule), and a value as [`input`] reads it, except that with the integer
/// range on (S3) an integral number at or past 2^53 (below 1e21) becomes the integer its
/// `JSON.stringify` literal stands for in `parse_body_json` (the exact one up to the 64-bit
/// bounds), which the write's range rule then refuses in document order, as for the text (a
/// violation before it is the error). With the range off it is refused here, as S10 says.
pub(crate) fn body_input(value: &JsValue, limits: &Limits) -> Result<Value, Error> {
    match text(value)? {
        Some(text) => twindoc::parse_body_json(&text, limits),
        None => walk(value, limits.integer_range()),
    }
}

/// The JSON text a value carries: a string's, or a `Uint8Array`'s bytes read as UTF-8 (not
/// UTF-8: `InvalidJson`, as text that does not parse); `None` for any other value.
pub(crate) fn text(value: &JsValue) -> Result<Option<String>, Error> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| Error::new(ErrorKind::InvalidJson, "", "the bytes are not UTF-8 text"));
    }
    string(value).map_err(|(kind, message)| Error::new(kind, "", message))
}

/// The text of a JavaScript string, `None` for any other value. A string holding a lone
/// surrogate is not Unicode text: its JSON text (`"\ud800"`) does not parse, so it is refused
/// rather than read with U+FFFD in its place, as the boundary would otherwise copy it.
fn string(value: &JsValue) -> Result<Option<String>, Failure> {
    let Some(text) = value.as_string() else {
        return Ok(None);
    };
    // Only a string that came across with a replacement character can have held a lone surrogate.
    if text.contains('\u{FFFD}') && !value.unchecked_ref::<JsString>().is_valid_utf16() {
        return Err(invalid(
            "the string holds a lone surrogate, which JSON text cannot carry",
        ));
    }
    Ok(Some(text))
}

/// Converts a JavaScript value as `JSON.stringify` would read it, but refusing what it would
/// silently change: `NaN`, `Infinity`, `BigInt`, functions, symbols and objects that are not
/// plain (`Date`, `Map`, class instances) are `InvalidJson`; an `undefined` member is absent; an
/// integral number below 1e21 is an integer literal, refused at or beyond 2^53.
pub(crate) fn from_js(value: &JsValue) -> Result<Value, Error> {
    walk(value, false)
}

/// [`from_js`], with integral numbers from 2^53 to the 64-bit bounds kept as exact integers when
/// `wide` (see [`body_input`]).
fn walk(value: &JsValue, wide: bool) -> Result<Value, Error> {
    let mut path = Vec::new();
    convert(value, 0, &mut path, wide).map_err(|(kind, message)| {
        let pointer: String = path
            .iter()
            .map(|token: &String| format!("/{}", twindoc::escape_pointer_token(token)))
            .collect();
        Error::new(kind, pointer, message)
    })
}

type Failure = (ErrorKind, String);

fn invalid(message: impl Into<String>) -> Failure {
    (ErrorKind::InvalidJson, message.into())
}

fn convert(value: &JsValue, depth: usize, path: &mut Vec<String>, wide: bool) -> Result<Value, Failure> {
    if let Some(text) = string(value).inspect_err(|_| path.clear())? {
        return Ok(Value::String(text));
    }
    if let Some(number) = value.as_f64() {
        return convert_number(number, wide);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if value.is_null() || value.is_undefined() {
        // `undefined` reaches here only as an array element, which JSON.stringify writes as null.
        return Ok(Value::Null);
    }
    if value.is_bigint() {
        return Err(invalid("a BigInt is not a JSON value"));
    }
    if value.is_function() || value.is_symbol() {
        return Err(invalid("functions and symbols are not JSON values"));
    }
    if depth >= MAX_JS_DEPTH {
        // No path: JSON text this deep fails to parse, with none.
        path.clear();
        return Err(invalid(format!(
            "the value nests more than {MAX_JS_DEPTH} objects or arrays, deeper than JSON text may"
        )));
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for (index, item) in array.iter().enumerate() {
            path.push(index.to_string());
            items.push(convert(&item, depth + 1, path, wide)?);
            path.pop();
        }
        return Ok(Value::Array(items));
    }
    // Not `dyn_ref`: an object made by `Object.create(null)` is no `instanceof Object`.
    let object: &Object = value.unchecked_ref();
    if !value.is_object() || !is_plain(object) {
        return Err(invalid(
            "only plain objects are JSON objects (not Date, Map or class instances)",
        ));
    }
    let keys = Object::keys(object);
    let mut members = Map::new();
    for key in keys.iter() {
        let name = string(&key).inspect_err(|_| path.clear())?.unwrap_or_default();
        let member = Reflect::get(object, &key).map_err(|_| invalid(format!("member {name:?} cannot be read")))?;
        if member.is_undefined() {
            continue;
        }
        path.push(name);
        let converted = convert(&member, depth + 1, path, wide)?;
        let name = path.pop().unwrap_or_default();
        members.insert(name, converted);
    }
    Ok(Value::Object(members))
}

fn convert_number(number: f64, wide: bool) -> Result<Value, Failure> {
    if !number.is_finite() {
        return Err(invalid("NaN and Infinity are not JSON numbers"));
    }
    if number.fract() == 0.0 && number.abs() < 1e21 {
        // Every integral double above -2^63 and below 2^64 is an exact i64 or u64, and the
        // integer literal JSON.stringify writes for it (its shortest digits, then zeros) is too.
        // Past them (-2^63 itself is written -9223372036854776000) the literal is beyond 64
        // bits, and `parse_body_json` puts the 64-bit integer of its sign farthest from zero in
        // its place: so does this.
        if wide {
            return Ok(match number {
                n if n > -9_223_372_036_854_775_808.0 && n < 0.0 => Value::from(n as i64),
                n if n < 0.0 => Value::from(i64::MIN),
                n if n < 18_446_744_073_709_551_616.0 => Value::from(n as u64),
                _ => Value::from(u64::MAX),
            });
        }
        if number.abs() >= EXACT_LIMIT {
            return Err((
                ErrorKind::IntegerOutOfRange,
                format!("the integer {} is at or beyond 2^53, no longer exact", Whole(number)),
            ));
        }
        // Exact: |number| < 2^53 fits an i64 with no rounding.
        return Ok(Value::from(number as i64));
    }
    Ok(serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number))
}

/// An object whose prototype is `Object.prototype` or `null`, as `{...}` and `JSON.parse` make.
fn is_plain(object: &Object) -> bool {
    let prototype = Object::get_prototype_of(object);
    prototype.is_null() || Object::get_prototype_of(&prototype).is_null()
}

/// A JSON document out, as a plain JavaScript value (through the engine's own JSON text and
/// `JSON.parse`, the fastest way across the boundary).
pub(crate) fn to_js(value: &impl serde::Serialize) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL)
}

/// A whole f64 with 2^53 <= |f| < 1e21, written as its exact integer digits (what `f as i128`
/// prints) through two u64 halves, so that an i128's Display is not linked for one message.
struct Whole(f64);

impl std::fmt::Display for Whole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Exact: a whole f64 below 1e21 < 2^70 fits a u128; the high half is 900,719 at least.
        let whole = self.0.abs() as u128;
        let (high, low) = ((whole / 10_000_000_000) as u64, (whole % 10_000_000_000) as u64);
        let sign = if self.0 < 0.0 { "-" } else { "" };
        write!(f, "{sign}{high}{low:010}")
    }
}

#[cfg(test)]
mod tests {
    use super::Whole;

    #[test]
    fn a_whole_number_prints_as_its_i128_does() {
        let mut numbers = vec![
            super::EXACT_LIMIT,
            2f64.powi(63),
            2f64.powi(64),
            1e20,
            123_456_789_012_345_680_000.0,
            1e21 - 131_072.0,
        ];
        numbers.extend((53..70).map(|bits| 2f64.powi(bits) * 1.5));
        for number in numbers.clone().into_iter().chain(numbers.into_iter().map(|n| -n)) {
            assert!(number.fract() == 0.0 && number.abs() < 1e21);
            assert_eq!(Whole(number).to_string(), (number as i128).to_string(), "{number}");
        }
    }
}
