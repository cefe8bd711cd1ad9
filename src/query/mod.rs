//! IoT Hub's query language over twins ([S11](crate::semantics#s11-queries-over-twins)): [`Query`] for whole queries,
//! [`Condition`] for a condition alone (the `targetCondition` of automatic configurations, S12).
//!
//! A query is parsed once; its evaluation never fails (whatever cannot be computed is undefined)
//! and reads each twin in place, through the engine's compact tree, without copying it.
//!
//! Where S11 is silent, twindoc decides as follows:
//! - **Modules.** A twin is a module twin when it has a `moduleId` that is not `null` (an SDK that
//!   writes absent identity fields as `null` should not turn a device into a module).
//!   [`Query::matches`] answers whether the query selects the twin: in its `FROM` collection and
//!   with its `WHERE` condition true, so that a query without aggregates gives a row for exactly
//!   the twins it matches. [`Condition::matches`] looks at the condition only.
//! - **Names.** Two items of a select list with the same member name (`SELECT tags.a,
//!   properties.reported.a`) are `InvalidQuery`: rename one with `AS` (a row cannot hold both).
//!   `AS` takes an identifier or a `[[...]]` name.
//! - **Dashes.** `tags.floor-number` (a name, `-`, a letter, no spaces) is a name holding `-`,
//!   which S11 wants bracketed: `InvalidQuery`. A subtraction of two paths has spaces (`a - b`).
//! - **Lists.** `[[` always opens a bracketed path segment: a list whose first item is a list is
//!   written `[ [...]]`. A `-` may precede a number in a list (`IN [-1, 1]`).
//! - **Literals.** Escapes other than `\'`, `\"`, `\\` and `\uXXXX` are `InvalidQuery`; a `0x`
//!   number has at most 64 bits; a decimal integer too large for 128 bits reads as a float; a
//!   number with a leading zero (`01`) is malformed, as in JSON; `1e999` is out of range.
//! - **Arithmetic** on integers is exact (in 128 bits, then as floats); a result that is not a
//!   finite number (`1e308 * 10`) is undefined. `/` of two integers that divide is an integer.
//! - **Nesting.** Parentheses, `NOT`, unary `-`, function arguments and lists may nest 64 levels
//!   deep; deeper is `InvalidQuery`, so that no text can exhaust the stack.
//! - **Collection** names after `FROM` are read in any case (`FROM Devices`), like reserved words.
//! - **Grouping.** Objects and arrays group together when their JSON text is the same (member
//!   order and the spelling of numbers inside count). An empty GROUP BY list is malformed.
//! - **Errors** name the offset as `at character offset N`, counted in Unicode scalar values from
//!   0 at the start of the text; a query over 8192 characters names offset 8192.

mod eval;
mod lexer;
mod parser;
mod skim;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Number, Value};

use crate::doc::node::Node;
use crate::error::{Error, ErrorKind};
use crate::twin::Twin;

pub(crate) use eval::Num;
use eval::{holds, Document};
use parser::{has_modules_prefix, parse_condition, parse_query, Aggregate, Expr, Item, Parsed};

/// The longest query text, in Unicode scalar values (S11).
pub(crate) const MAX_QUERY_CHARS: usize = 8192;

/// An `InvalidQuery` error whose message names the character offset `at`.
pub(crate) fn invalid(at: usize, message: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidQuery,
        "",
        format!("{message} at character offset {at}"),
    )
}

/// A condition over one twin: the `WHERE` part of a query, or a target condition given alone.
///
/// ```
/// use serde_json::json;
/// use twindoc::{Condition, Twin};
/// let twin = Twin::from_value(json!({"deviceId": "t1", "tags": {"env": "prod", "floor": 12}}))?;
/// let condition = Condition::parse("tags.env = 'prod' AND tags.floor >= 10")?;
/// assert!(condition.matches(&twin));
/// assert!(Condition::parse("*")?.matches(&twin));
/// // As IoT Hub wants a module configuration's condition written: the prefix is dropped.
/// assert!(Condition::parse("FROM devices.modules WHERE tags.env IN ['prod', 'test']")?.matches(&twin));
/// // Undefined is not true: no twin has tags.missing, so neither it nor its negation holds.
/// assert!(!Condition::parse("tags.missing = 1")?.matches(&twin));
/// assert!(!Condition::parse("NOT tags.missing = 1")?.matches(&twin));
/// let error = Condition::parse("tags.env = ").unwrap_err();
/// assert_eq!((error.code(), error.status(), error.error_code()), ("InvalidQuery", 400, 400004));
/// assert_eq!(error.message(), "expected a value, found the end of the query at character offset 11");
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// `None` for `*`, every twin.
    expr: Option<Expr>,
}

impl Condition {
    /// Parses a condition alone: `*` (every twin), a condition, or `FROM devices.modules WHERE
    /// <condition>` in any case (the prefix is dropped). Malformed text is `InvalidQuery`.
    pub fn parse(text: &str) -> Result<Condition, Error> {
        Ok(Condition {
            expr: parse_condition(text)?,
        })
    }

    /// As [`Condition::parse`], with whether the text is written with the
    /// `FROM devices.modules WHERE` prefix, which only a module configuration may use (S12).
    pub(crate) fn parse_target(text: &str) -> Result<(Condition, bool), Error> {
        Ok((Condition::parse(text)?, has_modules_prefix(text)))
    }

    /// Whether the condition is true for `twin` (undefined counts as false).
    pub fn matches(&self, twin: &Twin) -> bool {
        self.expr.as_ref().is_none_or(|expr| holds(expr, twin))
    }

    /// Whether the condition is `*` (or a query without `WHERE`): every twin.
    pub fn is_every_twin(&self) -> bool {
        self.expr.is_none()
    }
}

impl FromStr for Condition {
    type Err = Error;
    fn from_str(text: &str) -> Result<Condition, Error> {
        Condition::parse(text)
    }
}

/// A query over twins (S11), parsed once, run over any sequence of twins.
///
/// ```
/// use serde_json::json;
/// use twindoc::{Query, Twin};
/// let fleet = [
///     json!({"deviceId": "a", "tags": {"env": "prod"}, "properties": {"reported": {"fw": "1.0", "temp": 20}}}),
///     json!({"deviceId": "b", "tags": {"env": "test"}, "properties": {"reported": {"fw": "1.1", "temp": 25.5}}}),
///     json!({"deviceId": "c", "tags": {"env": "prod"}, "properties": {"reported": {"fw": "1.1"}}}),
///     json!({"deviceId": "c", "moduleId": "m", "tags": {"env": "prod"}}),
/// ]
/// .map(|doc| Twin::from_value(doc).unwrap());
///
/// let query = Query::parse("SELECT deviceId, properties.reported.temp AS t FROM devices WHERE tags.env = 'prod'")?;
/// assert_eq!(query.run(&fleet), [json!({"deviceId": "a", "t": 20}), json!({"deviceId": "c"})]);
/// assert!(query.matches(&fleet[0]) && !query.matches(&fleet[1]) && !query.matches(&fleet[3]));
///
/// let query: Query = "SELECT properties.reported.fw, COUNT() AS n, MAX(properties.reported.temp) \
///                     FROM devices GROUP BY properties.reported.fw".parse()?;
/// assert_eq!(
///     query.run(&fleet),
///     [json!({"fw": "1.0", "n": 1, "max": 20}), json!({"fw": "1.1", "n": 2, "max": 25.5})]
/// );
/// assert_eq!(Query::parse("SELECT TOP 1 * FROM devices.modules")?.run(&fleet), [fleet[3].to_value()]);
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    parsed: Parsed,
    condition: Condition,
    /// What the collection and the condition read of a twin, for [`QueryRun::push_json`].
    needs: skim::Needs,
}

impl Query {
    /// Parses a query (`SELECT ... FROM devices|devices.modules [WHERE ...] [GROUP BY ...]`).
    /// Malformed text is `InvalidQuery`, its message naming the character offset.
    pub fn parse(text: &str) -> Result<Query, Error> {
        let mut parsed = parse_query(text)?;
        let condition = Condition {
            expr: parsed.condition.take(),
        };
        let needs = skim::Needs::of(condition.expr.as_ref());
        Ok(Query {
            parsed,
            condition,
            needs,
        })
    }

    /// The `WHERE` condition (every twin without one).
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Whether the query selects `twin`: the twin is in its collection (`FROM devices`: no
    /// `moduleId`; `FROM devices.modules`: one) and its `WHERE` condition is true.
    pub fn matches(&self, twin: &Twin) -> bool {
        self.selects(twin)
    }

    fn selects(&self, twin: &impl Document) -> bool {
        let module = !matches!(twin.resolve(&["moduleId".into()]).as_deref(), None | Some(Node::Null));
        module == self.parsed.modules && self.condition.expr.as_ref().is_none_or(|expr| holds(expr, twin))
    }

    /// The rows of the query over `twins`, in their order (S11).
    pub fn run<T: Borrow<Twin>>(&self, twins: impl IntoIterator<Item = T>) -> Vec<Value> {
        let mut run = self.start();
        let mut rows = Vec::new();
        for twin in twins {
            if run.is_done() {
                break;
            }
            rows.extend(run.push(twin.borrow()));
        }
        rows.extend(run.finish());
        rows
    }

    /// Starts a run that takes twins one at a time, for twins that are read as they come (a
    /// stream): rows that need no aggregation come out as soon as their twin is pushed.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Query, Twin};
    /// let query = Query::parse("SELECT TOP 1 deviceId FROM devices")?;
    /// let mut run = query.start();
    /// for text in [r#"{"deviceId": "a"}"#, r#"{"deviceId": "b"}"#] {
    ///     if run.is_done() {
    ///         break;
    ///     }
    ///     if let Some(row) = run.push(&Twin::from_json(text)?) {
    ///         assert_eq!(row, json!({"deviceId": "a"}));
    ///     }
    /// }
    /// assert!(run.is_done() && run.finish().is_empty());
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn start(&self) -> QueryRun<'_> {
        let aggregated = !self.parsed.group_by.is_empty()
            || self
                .items()
                .iter()
                .any(|item| matches!(item.value, parser::Value::Aggregate(..)));
        let mut groups = aggregated.then(Groups::default);
        // Aggregates without GROUP BY give one row, even over no twins.
        if let Some(groups) = groups.as_mut().filter(|_| self.parsed.group_by.is_empty()) {
            groups.list.push(Group::new(self, Vec::new()));
        }
        QueryRun {
            query: self,
            rows: 0,
            groups,
        }
    }

    fn items(&self) -> &[Item] {
        self.parsed.items.as_deref().unwrap_or_default()
    }

    fn top(&self) -> u64 {
        self.parsed.top.unwrap_or(u64::MAX)
    }
}

impl FromStr for Query {
    type Err = Error;
    fn from_str(text: &str) -> Result<Query, Error> {
        Query::parse(text)
    }
}

/// A query being run over twins pushed one at a time ([`Query::start`]).
#[derive(Debug)]
pub struct QueryRun<'q> {
    query: &'q Query,
    /// Rows given so far (queries without aggregation).
    rows: u64,
    /// The groups so far, for aggregated queries.
    groups: Option<Groups>,
}

impl QueryRun<'_> {
    /// Takes the next twin; its row, when the query selects it and needs no aggregation.
    pub fn push(&mut self, twin: &Twin) -> Option<Value> {
        if self.is_done() || !self.query.matches(twin) {
            return None;
        }
        match &mut self.groups {
            Some(groups) => {
                groups.add(self.query, twin);
                None
            }
            None => {
                self.rows += 1;
                Some(self.query.row(twin))
            }
        }
    }

    /// Reads the next twin from its JSON text and takes it, as [`QueryRun::push`] does with
    /// [`Twin::from_json`]. A twin the query leaves out is read only as far as its collection
    /// and condition look (the rest is skipped, its syntax still checked), so that a query that
    /// selects a few twins of many reads few whole: such a twin's text is refused when it is not
    /// JSON (`InvalidJson`) or not an object (`InvalidTwin`), but not for the shape of members
    /// it does not read, which only a selected twin is checked for.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::Query;
    /// let query = Query::parse("SELECT deviceId FROM devices WHERE tags.env = 'prod'")?;
    /// let mut run = query.start();
    /// assert_eq!(run.push_json(r#"{"deviceId": "a", "tags": {"env": "test"}, "version": "?"}"#)?, None);
    /// assert_eq!(run.push_json(r#"{"deviceId": "b", "tags": {"env": "prod"}}"#)?, Some(json!({"deviceId": "b"})));
    /// assert_eq!(run.push_json("[1, 2]").unwrap_err().code(), "InvalidTwin");
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn push_json(&mut self, text: &str) -> Result<Option<Value>, Error> {
        if self.is_done() || !self.query.selects(&skim::skim(text, &self.query.needs)?) {
            return Ok(None);
        }
        Ok(self.push(&Twin::from_json(text)?))
    }

    /// Whether no further twin can change the rows (`TOP n` reached).
    pub fn is_done(&self) -> bool {
        let top = self.query.top();
        top == 0 || (self.groups.is_none() && self.rows >= top)
    }

    /// The rows held back for aggregation (none for a query without aggregates).
    pub fn finish(self) -> Vec<Value> {
        let Some(groups) = self.groups else {
            return Vec::new();
        };
        let top = usize::try_from(self.query.top()).unwrap_or(usize::MAX);
        groups
            .list
            .into_iter()
            .take(top)
            .map(|group| group.row(self.query))
            .collect()
    }
}

impl Query {
    /// The row of a selected twin, for a query without aggregation.
    fn row(&self, twin: &Twin) -> Value {
        let Some(items) = &self.parsed.items else {
            return twin.to_value();
        };
        let mut row = Map::new();
        for item in items.iter() {
            if let parser::Value::Path(path) = &item.value {
                if let Some(node) = twin.resolve_written(path) {
                    row.insert(item.name.to_string(), node.to_value());
                }
            }
        }
        Value::Object(row)
    }
}

/// How a group value is told apart: numbers by value, objects and arrays by JSON equality (their
/// text with members in sorted key order, so member order does not matter but `1` and `1.0` inside
/// them differ).
#[derive(Debug, PartialEq, Eq, Hash)]
enum GroupKey {
    Undefined,
    Null,
    Bool(bool),
    Int(i128),
    /// The bits of a float that is not a whole number within `i128`.
    Float(u64),
    Text(Box<str>),
    Json(String),
}

impl GroupKey {
    fn of(node: Option<&Node>) -> GroupKey {
        match node {
            None => GroupKey::Undefined,
            Some(Node::Null) => GroupKey::Null,
            Some(Node::Bool(b)) => GroupKey::Bool(*b),
            Some(Node::Number(n)) => match Num::from_json(n).normalized() {
                Num::Int(i) => GroupKey::Int(i),
                Num::Float(f) => GroupKey::Float(f.to_bits()),
            },
            Some(Node::String(s)) => GroupKey::Text(s.clone()),
            Some(node) => {
                let mut text = String::new();
                write_canonical(node, &mut text);
                GroupKey::Json(text)
            }
        }
    }
}

/// Writes a node as JSON text with every object's members in sorted key order. Twins are bounded
/// in depth when read, so the recursion is too.
fn write_canonical(node: &Node, out: &mut String) {
    match node {
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Node::Object(object) => {
            let mut members: Vec<(&str, &Node)> = object.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap_or_default()),
    }
}

#[derive(Debug, Default)]
struct Groups {
    /// The groups in order of first appearance.
    list: Vec<Group>,
    /// Where each group's key is in `list`.
    index: HashMap<Vec<GroupKey>, usize>,
}

impl Groups {
    fn add(&mut self, query: &Query, twin: &Twin) {
        let group_by = &query.parsed.group_by;
        let at = match group_by.is_empty() {
            true => 0,
            false => {
                let values: Vec<_> = group_by.iter().map(|path| twin.resolve_written(path)).collect();
                let key: Vec<GroupKey> = values.iter().map(|v| GroupKey::of(v.as_deref())).collect();
                match self.index.get(&key) {
                    Some(&at) => at,
                    None => {
                        let firsts = values.iter().map(|v| v.as_ref().map(|node| node.to_value())).collect();
                        self.list.push(Group::new(query, firsts));
                        self.index.insert(key, self.list.len() - 1);
                        self.list.len() - 1
                    }
                }
            }
        };
        if let Some(group) = self.list.get_mut(at) {
            group.add(query, twin);
        }
    }
}

#[derive(Debug)]
struct Group {
    /// The GROUP BY paths' values in the group's first twin, as written (`None`: undefined).
    firsts: Vec<Option<Value>>,
    /// One accumulator per select item.
    accumulators: Vec<Accumulator>,
}

/// What an item of an aggregated query has gathered so far.
#[derive(Debug)]
enum Accumulator {
    /// A GROUP BY path: the value is the group's.
    Grouped(usize),
    Count(u64),
    Sum(Sum),
    Avg(Sum),
    /// The least (greatest) number so far, by value, and as written.
    Min(Option<(Num, Number)>),
    Max(Option<(Num, Number)>),
}

/// A running sum: exact while every value is an integer literal, and as a float.
#[derive(Debug, Default)]
struct Sum {
    count: u64,
    exact: Option<i128>,
    float: f64,
}

impl Sum {
    fn add(&mut self, n: Num) {
        self.exact = match (self.count, self.exact, n) {
            (0, _, Num::Int(i)) => Some(i),
            (_, Some(sum), Num::Int(i)) => sum.checked_add(i),
            _ => None,
        };
        self.count += 1;
        self.float += match n {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        };
    }

    fn total(&self) -> Option<Number> {
        if self.count == 0 {
            return None;
        }
        match self.exact {
            Some(sum) => i64::try_from(sum)
                .map(Number::from)
                .or_else(|_| u64::try_from(sum).map(Number::from))
                .ok()
                .or_else(|| Number::from_f64(sum as f64)),
            None => Number::from_f64(self.float),
        }
    }

    fn average(&self) -> Option<Number> {
        if self.count == 0 {
            return None;
        }
        match self.exact {
            Some(sum) => Number::from_f64(divide(sum, self.count)),
            None => Number::from_f64(self.float / self.count as f64),
        }
    }
}

/// `sum / count` rounded once to the nearest double (ties to even), as an exact division
/// would be: `sum as f64 / count as f64` rounds twice once `sum` is past 2^53.
fn divide(sum: i128, count: u64) -> f64 {
    let magnitude = sum.unsigned_abs();
    if magnitude < 1 << 53 || count == 1 {
        // Both exact as doubles (or a division by one): IEEE division rounds once.
        return sum as f64 / count as f64;
    }
    // Shift the dividend up to bit 126 so that the quotient has at least 62 bits, then keep
    // whether a remainder is left as one more (sticky) bit below them: converting that to a
    // double rounds as the exact quotient would.
    let shift = magnitude.leading_zeros() - 1;
    let scaled = magnitude << shift;
    let (quotient, remainder) = (scaled / u128::from(count), scaled % u128::from(count));
    let bits = (quotient << 1) | u128::from(remainder != 0);
    // A power of two from 2^-1 to 2^-74: exact, and so is the product.
    let value = bits as f64 * 2f64.powi(-(shift as i32 + 1));
    if sum < 0 {
        -value
    } else {
        value
    }
}

impl Group {
    fn new(query: &Query, firsts: Vec<Option<Value>>) -> Group {
        let accumulators = query
            .items()
            .iter()
            .map(|item| match &item.value {
                parser::Value::Path(path) => {
                    Accumulator::Grouped(query.parsed.group_by.iter().position(|p| p == path).unwrap_or(0))
                }
                parser::Value::Aggregate(aggregate, _) => match aggregate {
                    Aggregate::Count => Accumulator::Count(0),
                    Aggregate::Sum => Accumulator::Sum(Sum::default()),
                    Aggregate::Avg => Accumulator::Avg(Sum::default()),
                    Aggregate::Min => Accumulator::Min(None),
                    Aggregate::Max => Accumulator::Max(None),
                },
            })
            .collect();
        Group { firsts, accumulators }
    }

    fn add(&mut self, query: &Query, twin: &Twin) {
        for (item, accumulator) in query.items().iter().zip(&mut self.accumulators) {
            if let Accumulator::Count(count) = accumulator {
                *count += 1;
                continue;
            }
            let parser::Value::Aggregate(_, Some(path)) = &item.value else {
                continue;
            };
            // Only numbers count; every other value is skipped.
            let Some(node) = twin.resolve(path) else { continue };
            let Node::Number(number) = &*node else { continue };
            let n = Num::from_json(number);
            let better = |best: &Option<(Num, Number)>, wanted: std::cmp::Ordering| {
                best.as_ref().is_none_or(|(b, _)| n.compare(*b) == wanted)
            };
            match accumulator {
                Accumulator::Sum(sum) | Accumulator::Avg(sum) => sum.add(n),
                Accumulator::Min(best) if better(best, std::cmp::Ordering::Less) => *best = Some((n, number.clone())),
                Accumulator::Max(best) if better(best, std::cmp::Ordering::Greater) => {
                    *best = Some((n, number.clone()))
                }
                _ => {}
            }
        }
    }

    fn row(self, query: &Query) -> Value {
        let mut row = Map::new();
        for (item, accumulator) in query.items().iter().zip(self.accumulators) {
            let value = match accumulator {
                Accumulator::Grouped(at) => self.firsts.get(at).cloned().flatten(),
                Accumulator::Count(count) => Some(count.into()),
                Accumulator::Sum(sum) => sum.total().map(Value::Number),
                Accumulator::Avg(sum) => sum.average().map(Value::Number),
                Accumulator::Min(best) | Accumulator::Max(best) => best.map(|(_, n)| Value::Number(n)),
            };
            if let Some(value) = value {
                row.insert(item.name.to_string(), value);
            }
        }
        Value::Object(row)
    }
}

#[cfg(test)]
mod tests {
    /// An average of integer literals is their exact sum divided once (the quotients of exact
    /// division, rounded to the nearest double, as Python's `int / int` gives them).
    #[test]
    fn an_integer_average_is_rounded_once() {
        let cases: [(i128, u64, f64); 22] = [
            (13510798882111485, 3, 4503599627370495.0),
            (-13510798882111485, 3, -4503599627370495.0),
            (9007199254740993, 2, 4503599627370496.0),
            (9007199254740995, 2, 4503599627370498.0),
            (-9007199254740995, 2, -4503599627370498.0),
            (18446744073709551617, 3, 6.148914691236517e+18),
            (1267650600228229401496703217721, 7, 1.8109294288974705e+29),
            (-85070591730234615865843651857942052864, 3, -2.8356863910078204e+37),
            (
                170141183460469231731687303715884105727,
                18446744073709551615,
                9.223372036854776e+18,
            ),
            (9007199254740992, 18446744073709551615, 0.00048828125),
            (-1829009864720429596, 333, -5492522116277566.0),
            (-2188015568333364690240, 668, -3.2754724076846776e+18),
            (-651203574895259915, 98, -6644934437706734.0),
            (3102228744887297882, 90, 3.4469208276525532e+16),
            (-873279835196383832880, 248, -3.521289658049935e+18),
            (-63187705122688323968, 128, -4.9365394627100256e+17),
            (2705777258091907829, 644, 4201517481509173.5),
            (-2155044242747779381, 228, -9451948433104296.0),
            (-1168287450308674566907, 431, -2.710643736215022e+18),
            (-1146077295382899385, 586, -1955763302701193.5),
            (459100050248155054331, 101, 4.5455450519619313e+18),
            (2171525227079452598718, 546, 3.9771524305484477e+18),
        ];
        for (sum, count, quotient) in cases {
            assert_eq!(super::divide(sum, count), quotient, "{sum} / {count}");
        }
        // Dividing the sum's double rounds twice: the first case shows it.
        assert_ne!(13510798882111485i128 as f64 / 3.0, 4503599627370495.0);
    }
    use super::*;
    use serde_json::json;

    fn twins(docs: &[Value]) -> Vec<Twin> {
        docs.iter().map(|doc| Twin::from_value(doc.clone()).unwrap()).collect()
    }

    fn rows(query: &str, docs: &[Value]) -> Vec<Value> {
        Query::parse(query).unwrap().run(twins(docs))
    }

    #[test]
    fn sums_stay_integers_while_they_fit_64_bits() {
        let big = [json!({"tags": {"n": i64::MAX}}), json!({"tags": {"n": 1}})];
        assert_eq!(
            rows("SELECT SUM(tags.n) FROM devices", &big),
            [json!({"sum": 9223372036854775808u64})]
        );
        let bigger = [json!({"tags": {"n": u64::MAX}}), json!({"tags": {"n": 1}})];
        assert_eq!(
            rows("SELECT SUM(tags.n) FROM devices", &bigger),
            [json!({"sum": 18446744073709551616.0})]
        );
        let negative = [json!({"tags": {"n": -5}}), json!({"tags": {"n": 2}})];
        assert_eq!(
            rows(
                "SELECT SUM(tags.n), AVG(tags.n), MIN(tags.n), MAX(tags.n) FROM devices",
                &negative
            ),
            [json!({"sum": -3, "avg": -1.5, "min": -5, "max": 2})]
        );
    }

    #[test]
    fn groups_tell_numbers_by_value() {
        let docs = [
            json!({"tags": {"n": 0}}),
            json!({"tags": {"n": -0.0}}),
            json!({"tags": {"n": 0.5}}),
        ];
        assert_eq!(
            rows("SELECT tags.n, COUNT() FROM devices GROUP BY tags.n", &docs),
            [json!({"n": 0, "count": 2}), json!({"n": 0.5, "count": 1})]
        );
    }

    #[test]
    fn top_applies_after_aggregation() {
        let docs = [
            json!({"tags": {"n": 1}}),
            json!({"tags": {"n": 2}}),
            json!({"tags": {"n": 1}}),
        ];
        assert_eq!(
            rows("SELECT TOP 1 tags.n, COUNT() FROM devices GROUP BY tags.n", &docs),
            [json!({"n": 1, "count": 2})]
        );
        assert_eq!(rows("SELECT TOP 0 COUNT() FROM devices", &docs), Vec::<Value>::new());
        let query = Query::parse("SELECT TOP 1 COUNT() FROM devices").unwrap();
        let mut run = query.start();
        for twin in twins(&docs) {
            assert!(!run.is_done(), "an aggregate reads every twin");
            assert_eq!(run.push(&twin), None);
        }
        assert_eq!(run.finish(), [json!({"count": 3})]);
    }

    #[test]
    fn module_twins_have_a_module_id_that_is_not_null() {
        let docs = [
            json!({"deviceId": "a"}),
            json!({"deviceId": "b", "moduleId": null}),
            json!({"deviceId": "c", "moduleId": "m"}),
        ];
        assert_eq!(
            rows("SELECT deviceId FROM devices", &docs),
            [json!({"deviceId": "a"}), json!({"deviceId": "b"})]
        );
        assert_eq!(
            rows("SELECT deviceId FROM devices.modules", &docs),
            [json!({"deviceId": "c"})]
        );
    }

    #[test]
    fn projected_sections_carry_their_metadata() {
        let mut twin = Twin::new("d", "2026-01-01T00:00:00Z".parse().unwrap());
        let options = crate::WriteOptions::new("2026-01-02T00:00:00Z".parse().unwrap());
        twin.patch(crate::Section::Desired, &json!({"a": 1}), &options).unwrap();
        let query = Query::parse("SELECT properties.desired, properties FROM devices").unwrap();
        let doc = twin.to_value();
        assert_eq!(
            query.run([&twin]),
            [json!({"desired": doc["properties"]["desired"], "properties": doc["properties"]})]
        );
    }
}
