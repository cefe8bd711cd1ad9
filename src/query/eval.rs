//! Evaluation of expressions against one twin (S11): three-valued logic, comparisons only between
//! values of one primitive type, arithmetic that yields undefined instead of failing.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Number;

use super::parser::{Arith, Compare, Expr, Literal, Path};
use crate::doc::node::{Node, Object};
use crate::twin::Twin;

/// A number, by value: integers exactly (twins hold up to 64 bits; arithmetic on them stays exact
/// in 128), others as finite floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

/// Floats at or beyond this magnitude lie outside `i128`.
const I128_LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

impl Num {
    pub(crate) fn from_json(n: &Number) -> Num {
        match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Num::Int(i128::from(i)),
            (None, Some(u)) => Num::Int(i128::from(u)),
            _ => Num::Float(n.as_f64().unwrap_or(0.0)),
        }
    }

    pub(crate) fn negate(self) -> Num {
        match self {
            Num::Int(i) => i.checked_neg().map_or(Num::Float(-(i as f64)), Num::Int),
            Num::Float(f) => Num::Float(-f),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// The value as an integer when it is whole and fits, so that `1` and `1.0` are one number.
    pub(crate) fn normalized(self) -> Num {
        match self {
            Num::Float(f) if f.trunc() == f && f.abs() < I128_LIMIT => Num::Int(f as i128),
            other => other,
        }
    }

    /// Numbers compared by value, exactly (an integer beyond 2^53 is not rounded to a float).
    pub(crate) fn compare(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a.cmp(&b),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            (Num::Int(a), Num::Float(b)) => compare_int_float(a, b),
            (Num::Float(a), Num::Int(b)) => compare_int_float(b, a).reverse(),
        }
    }

    /// `self op other`; `None` (undefined) for a zero divisor or a result no JSON number holds.
    fn apply(self, op: Arith, other: Num) -> Option<Num> {
        if matches!(op, Arith::Div | Arith::Rem) && other.as_f64() == 0.0 {
            return None;
        }
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            let exact = match op {
                Arith::Add => a.checked_add(b),
                Arith::Sub => a.checked_sub(b),
                Arith::Mul => a.checked_mul(b),
                // Real division: exact when it divides, else a float (7 / 2 = 3.5).
                Arith::Div => a.checked_rem(b).filter(|r| *r == 0).and_then(|_| a.checked_div(b)),
                Arith::Rem => a.checked_rem(b),
            };
            if let Some(result) = exact {
                return Some(Num::Int(result));
            }
        }
        let (a, b) = (self.as_f64(), other.as_f64());
        let result = match op {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
            // Rust's float remainder keeps the dividend's sign, as S11 asks.
            Arith::Rem => a % b,
        };
        result.is_finite().then_some(Num::Float(result))
    }
}

fn compare_int_float(int: i128, float: f64) -> Ordering {
    if float >= I128_LIMIT {
        return Ordering::Less;
    }
    if float < -I128_LIMIT {
        return Ordering::Greater;
    }
    let whole = float.trunc();
    match int.cmp(&(whole as i128)) {
        Ordering::Equal => 0.0.partial_cmp(&(float - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    Undefined,
    Null,
    Bool(bool),
    Num(Num),
    Str(Cow<'a, str>),
    /// An object or an array: defined, but comparable with nothing.
    Composite,
}

impl<'a> Val<'a> {
    pub(crate) fn of_node(node: Cow<'a, Node>) -> Val<'a> {
        match node {
            Cow::Borrowed(Node::String(s)) => Val::Str(Cow::Borrowed(s)),
            Cow::Owned(Node::String(s)) => Val::Str(Cow::Owned(s.into())),
            Cow::Borrowed(node) => Val::of_scalar(node),
            Cow::Owned(node) => Val::of_scalar(&node),
        }
    }

    fn of_scalar(node: &Node) -> Val<'a> {
        match node {
            Node::Null => Val::Null,
            Node::Bool(b) => Val::Bool(*b),
            Node::Number(n) => Val::Num(Num::from_json(n)),
            Node::String(s) => Val::Str(Cow::Owned(s.to_string())),
            Node::Array(_) | Node::Object(_) => Val::Composite,
        }
    }

    fn of_literal(literal: &'a Literal) -> Val<'a> {
        match literal {
            Literal::Undefined => Val::Undefined,
            Literal::Null => Val::Null,
            Literal::Bool(b) => Val::Bool(*b),
            Literal::Number(n) => Val::Num(*n),
            Literal::Text(t) => Val::Str(Cow::Borrowed(t)),
            Literal::List(_) => Val::Composite,
        }
    }

    /// The value as a truth value: `None` (undefined) for anything but a boolean.
    fn truth(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

fn truth_val(truth: Option<bool>) -> Val<'static> {
    truth.map_or(Val::Undefined, Val::Bool)
}

/// `left op right`: defined only between two numbers, two strings, or (for `=` and `!=`) two
/// booleans or two nulls.
fn compare(left: &Val, op: Compare, right: &Val) -> Option<bool> {
    let ordering = match (left, right) {
        (Val::Num(a), Val::Num(b)) => a.compare(*b),
        // Byte order of UTF-8 is code point order.
        (Val::Str(a), Val::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Val::Bool(a), Val::Bool(b)) if matches!(op, Compare::Eq | Compare::Ne) => a.cmp(b),
        (Val::Null, Val::Null) if matches!(op, Compare::Eq | Compare::Ne) => Ordering::Equal,
        _ => return None,
    };
    Some(match op {
        Compare::Eq => ordering.is_eq(),
        Compare::Ne => ordering.is_ne(),
        Compare::Lt => ordering.is_lt(),
        Compare::Gt => ordering.is_gt(),
        Compare::Le => ordering.is_le(),
        Compare::Ge => ordering.is_ge(),
    })
}

/// What a condition reads a twin through: the twin, or its text read as far as the condition
/// needs ([`super::skim`]).
pub(crate) trait Document {
    fn resolve(&self, path: &[Box<str>]) -> Option<Cow<'_, Node>>;
}

impl Document for Twin {
    fn resolve(&self, path: &[Box<str>]) -> Option<Cow<'_, Node>> {
        Twin::resolve(self, path)
    }
}

impl Document for Object {
    fn resolve(&self, path: &[Box<str>]) -> Option<Cow<'_, Node>> {
        super::skim::resolve(self, path)
    }
}

/// The value of `path` in `twin`.
pub(crate) fn resolve<'a>(twin: &'a impl Document, path: &Path) -> Val<'a> {
    twin.resolve(path).map_or(Val::Undefined, Val::of_node)
}

/// Evaluates `expr` against `twin`. Recursion follows the tree, whose depth the parser bounds.
pub(crate) fn eval<'a, D: Document>(expr: &'a Expr, twin: &'a D) -> Val<'a> {
    match expr {
        Expr::Literal(literal) => Val::of_literal(literal),
        Expr::Path(path) => resolve(twin, path),
        Expr::Negate(operand) => match eval(operand, twin) {
            Val::Num(n) => Val::Num(n.negate()),
            _ => Val::Undefined,
        },
        Expr::Arith(first, rest) => {
            let Val::Num(mut acc) = eval(first, twin) else {
                return Val::Undefined;
            };
            for (op, operand) in rest.iter() {
                let Val::Num(n) = eval(operand, twin) else {
                    return Val::Undefined;
                };
                match acc.apply(*op, n) {
                    Some(result) => acc = result,
                    None => return Val::Undefined,
                }
            }
            Val::Num(acc)
        }
        Expr::Compare(left, op, right) => truth_val(compare(&eval(left, twin), *op, &eval(right, twin))),
        Expr::In(operand, list) => {
            let value = eval(operand, twin);
            truth_val(any(list
                .iter()
                .map(|item| compare(&value, Compare::Eq, &Val::of_literal(item)))))
        }
        Expr::Not(operand) => truth_val(eval(operand, twin).truth().map(|b| !b)),
        Expr::And(terms) => truth_val(all(terms.iter().map(|t| eval(t, twin).truth()))),
        Expr::Or(terms) => truth_val(any(terms.iter().map(|t| eval(t, twin).truth()))),
        Expr::IsDefined(path) => Val::Bool(twin.resolve(path).is_some()),
        Expr::StartsWith(text, prefix) => match (eval(text, twin), eval(prefix, twin)) {
            (Val::Str(text), Val::Str(prefix)) => Val::Bool(text.starts_with(&*prefix)),
            _ => Val::Undefined,
        },
        Expr::EndsWith(text, suffix) => match (eval(text, twin), eval(suffix, twin)) {
            (Val::Str(text), Val::Str(suffix)) => Val::Bool(text.ends_with(&*suffix)),
            _ => Val::Undefined,
        },
    }
}

/// Three-valued AND: false if any is false, else undefined if any is undefined, else true.
fn all(truths: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut result = Some(true);
    for truth in truths {
        match truth {
            Some(false) => return Some(false),
            None => result = None,
            Some(true) => {}
        }
    }
    result
}

/// Three-valued OR: true if any is true, else undefined if any is undefined, else false.
fn any(truths: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    all(truths.map(|t| t.map(|b| !b))).map(|b| !b)
}

/// Whether `expr` is true for `twin` (undefined and non-booleans are not).
pub(crate) fn holds(expr: &Expr, twin: &impl Document) -> bool {
    eval(expr, twin) == Val::Bool(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parser::parse_condition;
    use serde_json::json;

    fn twin() -> Twin {
        Twin::from_value(json!({
            "deviceId": "dev-1", "etag": "AAAAAAAAAAE=", "version": 2,
            "tags": {"env": "prod", "n": 5, "f": 1.0, "big": 9007199254740993u64, "flag": true,
                     "nothing": null, "list": [1, 2], "obj": {"a": 1}, "group": "g", "a-b": "x"},
            "properties": {
                "desired": {"$metadata": {"$lastUpdated": "2026-01-01T00:00:00.0000000Z", "$lastUpdatedVersion": 1}, "$version": 1},
                "reported": {"temp": 21.5,
                             "$metadata": {"$lastUpdated": "2026-01-01T00:00:00.0000000Z",
                                           "temp": {"$lastUpdated": "2026-01-02T00:00:00.0000000Z"}},
                             "$version": 4}
            }
        }))
        .unwrap()
    }

    /// The value of a condition's text against the test twin.
    fn value(text: &str) -> Val<'static> {
        let expr = parse_condition(text).unwrap().unwrap();
        let twin = twin();
        match eval(&expr, &twin) {
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Undefined => Val::Undefined,
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Num(n) => Val::Num(n),
            Val::Composite => Val::Composite,
        }
    }

    const T: Val = Val::Bool(true);
    const F: Val = Val::Bool(false);
    const U: Val = Val::Undefined;

    #[test]
    fn paths_resolve_from_the_root() {
        assert_eq!(value("deviceId"), Val::Str("dev-1".into()));
        assert_eq!(value("tags.[[a-b]]"), Val::Str("x".into()));
        assert_eq!(value("tags.[[group]]"), Val::Str("g".into()));
        assert_eq!(value("tags.nothing"), Val::Null);
        assert_eq!(value("tags.obj"), Val::Composite);
        assert_eq!(value("tags.obj.a"), Val::Num(Num::Int(1)));
        assert_eq!(value("tags.list.[[0]]"), U);
        assert_eq!(value("tags.env.x"), U);
        assert_eq!(value("tags.Env"), U);
        assert_eq!(value("properties.reported.$version"), Val::Num(Num::Int(4)));
        assert_eq!(
            value("properties.reported.$metadata.temp.$lastUpdated"),
            Val::Str("2026-01-02T00:00:00.0000000Z".into())
        );
        assert_eq!(
            value("properties.desired.$metadata.$lastUpdatedVersion"),
            Val::Num(Num::Int(1))
        );
        assert_eq!(value("properties.desired.$metadata"), Val::Composite);
        assert_eq!(value("properties.desired.$metadata.x"), U);
    }

    #[test]
    fn comparisons_need_one_primitive_type() {
        assert_eq!(value("tags.n = 5.0"), T);
        assert_eq!(value("tags.f = 1"), T);
        assert_eq!(value("tags.big = 9007199254740992"), F);
        assert_eq!(value("tags.big > 9007199254740992.0"), T);
        assert_eq!(value("tags.n = '5'"), U);
        assert_eq!(value("tags.n <> 4"), T);
        assert_eq!(value("'abc' < 'abd'"), T);
        assert_eq!(value("'Z' < 'a'"), T);
        assert_eq!(value("'é' > 'z'"), T);
        assert_eq!(value("tags.flag = true"), T);
        assert_eq!(value("tags.flag > false"), U);
        assert_eq!(value("tags.nothing = null"), T);
        assert_eq!(value("tags.nothing != null"), F);
        assert_eq!(value("tags.nothing < null"), U);
        assert_eq!(value("tags.env = null"), U);
        assert_eq!(value("tags.obj = tags.obj"), U);
        assert_eq!(value("tags.list = [1, 2]"), U);
        assert_eq!(value("tags.missing = undefined"), U);
        assert_eq!(value("0x10 = 16"), T);
    }

    #[test]
    fn three_valued_logic() {
        assert_eq!(value("false AND tags.missing = 1"), F);
        assert_eq!(value("true AND tags.missing = 1"), U);
        assert_eq!(value("true OR tags.missing = 1"), T);
        assert_eq!(value("false OR tags.missing = 1"), U);
        assert_eq!(value("NOT tags.missing = 1"), U);
        assert_eq!(value("NOT tags.n"), U);
        assert_eq!(value("tags.n AND true"), U);
        assert_eq!(value("tags.flag AND NOT false"), T);
        assert_eq!(value("(tags.n = 5) = true"), T);
    }

    #[test]
    fn in_and_nin() {
        assert_eq!(value("tags.env IN ['dev', 'prod']"), T);
        assert_eq!(value("tags.env IN ['dev']"), F);
        assert_eq!(value("tags.env IN []"), F);
        assert_eq!(value("tags.env NIN ['dev']"), T);
        assert_eq!(value("tags.env NOT IN ['prod']"), F);
        assert_eq!(value("tags.n IN [1, 5.0]"), T);
        assert_eq!(value("tags.n IN ['a', 1]"), U);
        assert_eq!(value("tags.n IN ['a', 5]"), T);
        assert_eq!(value("tags.missing NIN [1]"), U);
        assert_eq!(value("tags.n IN [-5, [5]]"), U);
    }

    #[test]
    fn arithmetic() {
        assert_eq!(value("7 / 2"), Val::Num(Num::Float(3.5)));
        assert_eq!(value("8 / 2"), Val::Num(Num::Int(4)));
        assert_eq!(value("-7 % 3"), Val::Num(Num::Int(-1)));
        assert_eq!(value("7 % -3"), Val::Num(Num::Int(1)));
        assert_eq!(value("-7.5 % 2"), Val::Num(Num::Float(-1.5)));
        assert_eq!(value("1 / 0"), U);
        assert_eq!(value("1 % 0.0"), U);
        assert_eq!(value("1 + 2 * 3 - 4"), Val::Num(Num::Int(3)));
        assert_eq!(value("10 - 2 - 3"), Val::Num(Num::Int(5)));
        assert_eq!(value("2 * (3 + 4)"), Val::Num(Num::Int(14)));
        assert_eq!(value("- - 3"), Val::Num(Num::Int(3)));
        assert_eq!(value("tags.n * 2 = 10"), T);
        assert_eq!(value("tags.env + 1"), U);
        assert_eq!(value("'a' + 'b'"), U);
        assert_eq!(value("-tags.env"), U);
        assert_eq!(value("1e308 * 10"), U);
        assert_eq!(value("tags.big + 1 = 9007199254740994"), T);
    }

    #[test]
    fn functions() {
        assert_eq!(value("STARTSWITH(deviceId, 'dev')"), T);
        assert_eq!(value("startswith(deviceId, 'Dev')"), F);
        assert_eq!(value("ENDSWITH(deviceId, '-1')"), T);
        assert_eq!(value("ENDSWITH(deviceId, 1)"), U);
        assert_eq!(value("ENDSWITH(tags.missing, '1')"), U);
        assert_eq!(value("IS_DEFINED(tags.nothing)"), T);
        assert_eq!(value("IS_DEFINED(tags.missing)"), F);
        assert_eq!(value("IS_DEFINED(properties.reported.$metadata.temp)"), T);
        assert_eq!(value("NOT IS_DEFINED(tags.env.x)"), T);
    }

    #[test]
    fn the_deepest_nesting_evaluates() {
        let depth = crate::query::parser::MAX_NESTING;
        assert_eq!(value(&format!("{}tags.n = 5", "NOT ".repeat(depth))), T);
        assert_eq!(value(&format!("{}5", "-".repeat(depth))), Val::Num(Num::Int(5)));
        let parens = format!("{}tags.n{} * 2", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(value(&parens), Val::Num(Num::Int(10)));
        let call = |depth| (0..depth).fold("deviceId".to_string(), |inner, _| format!("STARTSWITH({inner}, 'd')"));
        assert_eq!(value(&call(1)), T);
        assert_eq!(value(&call(depth)), U);
        assert!(parse_condition(&call(depth + 1)).is_err());
    }

    #[test]
    fn numbers_compare_exactly() {
        let big = Num::Int(9_007_199_254_740_993);
        assert_eq!(big.compare(Num::Float(9_007_199_254_740_992.0)), Ordering::Greater);
        assert_eq!(Num::Int(-3).compare(Num::Float(-2.5)), Ordering::Less);
        assert_eq!(Num::Int(2).compare(Num::Float(2.5)), Ordering::Less);
        assert_eq!(Num::Int(3).compare(Num::Float(2.5)), Ordering::Greater);
        assert_eq!(Num::Int(i128::MAX).compare(Num::Float(1e300)), Ordering::Less);
        assert_eq!(Num::Int(i128::MIN).compare(Num::Float(-1e300)), Ordering::Greater);
        assert_eq!(Num::Float(-0.0).normalized(), Num::Int(0));
        assert_eq!(Num::Float(1e300).normalized(), Num::Float(1e300));
    }
}
