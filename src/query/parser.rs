//! The S11 grammar, by recursive descent over the tokens, into the syntax tree the evaluator walks.
//!
//! Chains of one operator (`a AND b AND c`, `a + b - c`) are kept flat, so the tree is only as
//! deep as the text's nesting (parentheses, `NOT`, unary `-`, function arguments, lists), and
//! that is bounded by [`MAX_NESTING`]: neither parsing, evaluating nor dropping the tree can
//! overflow the stack.

use super::lexer::{tokenize, Tok, Token};
use super::{invalid, Num, MAX_QUERY_CHARS};
use crate::error::Error;

/// How deeply parentheses, `NOT`, unary `-`, function arguments and lists may nest.
pub(crate) const MAX_NESTING: usize = 64;

/// The reserved words (S11), which a bare path segment cannot be.
const RESERVED: [&str; 16] = [
    "SELECT",
    "TOP",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "NIN",
    "TRUE",
    "FALSE",
    "NULL",
    "UNDEFINED",
];

/// A path: member names from the twin document's root.
pub(crate) type Path = Box<[Box<str>]>;

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Undefined,
    Null,
    Bool(bool),
    Number(Num),
    Text(Box<str>),
    List(Box<[Literal]>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compare {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// An expression (a condition is an expression too: S11 lets `( condition )` be an operand).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Literal(Literal),
    Path(Path),
    Negate(Box<Expr>),
    /// The first operand, then each operator with its right operand, applied left to right.
    Arith(Box<Expr>, Box<[(Arith, Expr)]>),
    Compare(Box<Expr>, Compare, Box<Expr>),
    /// `x IN list`; `NOT IN` and `NIN` are `Not(In(..))`.
    In(Box<Expr>, Box<[Literal]>),
    Not(Box<Expr>),
    And(Box<[Expr]>),
    Or(Box<[Expr]>),
    IsDefined(Path),
    StartsWith(Box<Expr>, Box<Expr>),
    EndsWith(Box<Expr>, Box<Expr>),
}

/// An aggregate function of the select list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl Aggregate {
    fn from_name(name: &str) -> Option<Aggregate> {
        Some(match name.to_ascii_uppercase().as_str() {
            "COUNT" => Aggregate::Count,
            "SUM" => Aggregate::Sum,
            "AVG" => Aggregate::Avg,
            "MIN" => Aggregate::Min,
            "MAX" => Aggregate::Max,
            _ => return None,
        })
    }

    /// The member name of its value in a row when the item has no `AS`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Aggregate::Count => "count",
            Aggregate::Sum => "sum",
            Aggregate::Avg => "avg",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
        }
    }
}

/// What a select item computes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Path(Path),
    /// An aggregate and its path (`None` for `COUNT()`).
    Aggregate(Aggregate, Option<Path>),
}

/// One item of the select list, with the member name it gets in a row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Item {
    pub(crate) value: Value,
    pub(crate) name: Box<str>,
}

/// A whole query, parsed and checked.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) top: Option<u64>,
    /// `None` for `SELECT *`.
    pub(crate) items: Option<Box<[Item]>>,
    pub(crate) modules: bool,
    /// `None` without WHERE.
    pub(crate) condition: Option<Expr>,
    pub(crate) group_by: Box<[Path]>,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

/// Refuses text longer than S11's 8192 characters, naming the first character past the limit.
fn check_length(text: &str) -> Result<(), Error> {
    match text.chars().nth(MAX_QUERY_CHARS) {
        Some(_) => Err(invalid(
            MAX_QUERY_CHARS,
            format!("the query is longer than {MAX_QUERY_CHARS} characters"),
        )),
        None => Ok(()),
    }
}

/// Parses a whole query (`SELECT ... FROM ...`).
pub(crate) fn parse_query(text: &str) -> Result<Parsed, Error> {
    check_length(text)?;
    let mut p = Parser::new(text)?;
    p.expect_word("SELECT")?;
    let mut top = None;
    if p.peek().is_word("TOP") {
        p.next();
        let token = p.next();
        match token.tok {
            Tok::Number(Num::Int(n)) => {
                top = Some(u64::try_from(n).map_err(|_| invalid(token.at, "TOP takes a whole number from 0"))?)
            }
            _ => return Err(invalid(token.at, "TOP takes a whole number from 0")),
        }
    }
    let star = p.peek().is_punct("*").then(|| p.next().at);
    let items = match star {
        Some(_) => None,
        None => Some(p.select_list()?),
    };
    p.expect_word("FROM")?;
    let from = p.peek().at;
    if !p.next().is_word("devices") {
        return Err(invalid(from, "expected devices or devices.modules after FROM"));
    }
    let modules = p.peek().is_punct(".");
    if modules {
        p.next();
        if !p.next().is_word("modules") {
            return Err(invalid(from, "expected devices or devices.modules after FROM"));
        }
    }
    let condition = match p.peek().is_word("WHERE") {
        true => {
            p.next();
            Some(p.condition()?)
        }
        false => None,
    };
    let mut group_by = Vec::new();
    let group_at = p.peek().at;
    if p.peek().is_word("GROUP") {
        p.next();
        p.expect_word("BY")?;
        group_by.push(p.path()?.1);
        while p.peek().is_punct(",") {
            p.next();
            group_by.push(p.path()?.1);
        }
        if modules {
            return Err(invalid(group_at, "GROUP BY is not supported on devices.modules"));
        }
        if let Some(star) = star {
            return Err(invalid(
                star,
                "SELECT * cannot be grouped: name the group paths and aggregates",
            ));
        }
    }
    p.expect_end()?;
    if let Some(items) = &items {
        check_items(items, &group_by)?;
    }
    Ok(Parsed {
        top,
        items: items.map(|items| items.into_iter().map(|(_, item)| item).collect()),
        modules,
        condition,
        group_by: group_by.into(),
    })
}

/// Checks a select list: distinct names; beside aggregates or under GROUP BY, only group paths.
fn check_items(items: &[(usize, Item)], group_by: &[Path]) -> Result<(), Error> {
    let aggregated = !group_by.is_empty() || items.iter().any(|(_, i)| matches!(i.value, Value::Aggregate(..)));
    for (n, (at, item)) in items.iter().enumerate() {
        if items[..n].iter().any(|(_, earlier)| earlier.name == item.name) {
            return Err(invalid(
                *at,
                format!("two items are named {:?}: rename one with AS", item.name),
            ));
        }
        if let Value::Path(path) = &item.value {
            if aggregated && !group_by.contains(path) {
                let why = match group_by.is_empty() {
                    true => "a path beside aggregates must be grouped with GROUP BY",
                    false => "a grouped query selects only its GROUP BY paths and aggregates",
                };
                return Err(invalid(*at, why));
            }
        }
    }
    Ok(())
}

/// Parses a target condition given alone (S12): a condition, `*` for every twin (`None`), or
/// `FROM devices.modules WHERE <condition>` (any case).
pub(crate) fn parse_condition(text: &str) -> Result<Option<Expr>, Error> {
    check_length(text)?;
    let mut p = Parser::new(text)?;
    if p.peek().is_punct("*") {
        p.next();
        p.expect_end()?;
        return Ok(None);
    }
    if p.peek().is_word("FROM") {
        let at = p.next().at;
        let prefix = p.next().is_word("devices")
            && p.next().is_punct(".")
            && p.next().is_word("modules")
            && p.next().is_word("WHERE");
        if !prefix {
            return Err(invalid(
                at,
                "a condition may only start with FROM devices.modules WHERE",
            ));
        }
    }
    let condition = p.condition()?;
    p.expect_end()?;
    Ok(Some(condition))
}

/// Whether a target condition that [`parse_condition`] accepts is written with the
/// `FROM devices.modules WHERE` prefix (there, a first word `FROM` is that prefix).
pub(crate) fn has_modules_prefix(text: &str) -> bool {
    Parser::new(text).is_ok_and(|p| p.peek().is_word("FROM"))
}

impl Parser {
    fn new(text: &str) -> Result<Parser, Error> {
        Ok(Parser {
            tokens: tokenize(text)?,
            at: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    /// The token `ahead` places after the next (the last, `End`, when past it).
    fn peek_at(&self, ahead: usize) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.at + ahead).min(last)]
    }

    /// Takes the next token (`End` stays).
    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::End {
            self.at += 1;
        }
        token
    }

    fn unexpected(&self, expected: &str) -> Error {
        let token = self.peek();
        invalid(token.at, format!("expected {expected}, found {}", token.describe()))
    }

    fn expect_word(&mut self, word: &str) -> Result<(), Error> {
        match self.peek().is_word(word) {
            true => {
                self.next();
                Ok(())
            }
            false => Err(self.unexpected(word)),
        }
    }

    fn expect_punct(&mut self, punct: &str) -> Result<(), Error> {
        match self.peek().is_punct(punct) {
            true => {
                self.next();
                Ok(())
            }
            false => Err(self.unexpected(&format!("'{punct}'"))),
        }
    }

    fn expect_end(&self) -> Result<(), Error> {
        match self.peek().tok {
            Tok::End => Ok(()),
            _ => Err(self.unexpected("the end of the query")),
        }
    }

    /// Enters one level of nesting, refusing to go past [`MAX_NESTING`].
    fn nest(&mut self, at: usize) -> Result<(), Error> {
        self.depth += 1;
        match self.depth > MAX_NESTING {
            true => Err(invalid(at, format!("nested more than {MAX_NESTING} levels deep"))),
            false => Ok(()),
        }
    }

    fn select_list(&mut self) -> Result<Vec<(usize, Item)>, Error> {
        let mut items = vec![self.item()?];
        while self.peek().is_punct(",") {
            self.next();
            items.push(self.item()?);
        }
        Ok(items)
    }

    fn item(&mut self) -> Result<(usize, Item), Error> {
        let at = self.peek().at;
        let aggregate = match (&self.peek().tok, self.peek_at(1).is_punct("(")) {
            (Tok::Word(name), true) => Some(
                Aggregate::from_name(name)
                    .ok_or_else(|| invalid(at, format!("unknown aggregate {name}: use COUNT, SUM, AVG, MIN or MAX")))?,
            ),
            _ => None,
        };
        let (value, default_name) = match aggregate {
            Some(aggregate) => {
                self.next();
                self.next();
                let path = match aggregate {
                    Aggregate::Count => None,
                    _ => Some(self.path()?.1),
                };
                self.expect_punct(")")?;
                (Value::Aggregate(aggregate, path), aggregate.name().into())
            }
            None => {
                let (_, path) = self.path()?;
                let last = path.last().cloned().unwrap_or_default();
                (Value::Path(path), last)
            }
        };
        let name = match self.peek().is_word("AS") {
            true => {
                self.next();
                let token = self.next();
                match token.tok {
                    Tok::Word(w) if !is_reserved(&w) => w.into(),
                    Tok::Segment(s) => s.into(),
                    _ => return Err(invalid(token.at, "expected a name after AS")),
                }
            }
            false => default_name,
        };
        Ok((at, Item { value, name }))
    }

    /// A path and the offset it starts at.
    fn path(&mut self) -> Result<(usize, Path), Error> {
        let start = self.peek().at;
        let mut segments = vec![self.segment()?];
        while self.peek().is_punct(".") {
            self.next();
            segments.push(self.segment()?);
        }
        Ok((start, segments.into()))
    }

    fn segment(&mut self) -> Result<Box<str>, Error> {
        let token = self.next();
        match token.tok {
            Tok::Word(w) if is_reserved(&w) => Err(invalid(
                token.at,
                format!("{w} is a reserved word: write it [[{w}]] in a path"),
            )),
            Tok::Word(w) => Ok(w.into()),
            Tok::Segment(s) => Ok(s.into()),
            _ => Err(invalid(
                token.at,
                format!("expected a path segment, found {}", token.describe()),
            )),
        }
    }

    /// `condition`: OR of ANDs of NOTs of comparisons.
    fn condition(&mut self) -> Result<Expr, Error> {
        let mut terms = vec![self.and()?];
        while self.peek().is_word("OR") {
            self.next();
            terms.push(self.and()?);
        }
        Ok(match terms.len() {
            1 => terms.pop().unwrap_or(Expr::Literal(Literal::Undefined)),
            _ => Expr::Or(terms.into()),
        })
    }

    fn and(&mut self) -> Result<Expr, Error> {
        let mut terms = vec![self.not()?];
        while self.peek().is_word("AND") {
            self.next();
            terms.push(self.not()?);
        }
        Ok(match terms.len() {
            1 => terms.pop().unwrap_or(Expr::Literal(Literal::Undefined)),
            _ => Expr::And(terms.into()),
        })
    }

    fn not(&mut self) -> Result<Expr, Error> {
        if !self.peek().is_word("NOT") {
            return self.comparison();
        }
        let at = self.next().at;
        self.nest(at)?;
        let operand = self.not()?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(operand)))
    }

    fn comparison(&mut self) -> Result<Expr, Error> {
        let left = self.additive()?;
        let op = match &self.peek().tok {
            Tok::Punct("=") => Compare::Eq,
            Tok::Punct("!=" | "<>") => Compare::Ne,
            Tok::Punct("<") => Compare::Lt,
            Tok::Punct(">") => Compare::Gt,
            Tok::Punct("<=") => Compare::Le,
            Tok::Punct(">=") => Compare::Ge,
            _ => {
                let negated = if self.peek().is_word("NIN") {
                    true
                } else if self.peek().is_word("NOT") && self.peek_at(1).is_word("IN") {
                    self.next();
                    true
                } else if self.peek().is_word("IN") {
                    false
                } else {
                    return Ok(left);
                };
                self.next();
                let at = self.peek().at;
                let Literal::List(list) = self.literal()? else {
                    return Err(invalid(at, "IN takes a list: [value, ...]"));
                };
                let test = Expr::In(Box::new(left), list);
                return Ok(match negated {
                    true => Expr::Not(Box::new(test)),
                    false => test,
                });
            }
        };
        self.next();
        let right = self.additive()?;
        Ok(Expr::Compare(Box::new(left), op, Box::new(right)))
    }

    fn additive(&mut self) -> Result<Expr, Error> {
        self.chain(Parser::multiplicative, |t| match t {
            Tok::Punct("+") => Some(Arith::Add),
            Tok::Punct("-") => Some(Arith::Sub),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Result<Expr, Error> {
        self.chain(Parser::unary, |t| match t {
            Tok::Punct("*") => Some(Arith::Mul),
            Tok::Punct("/") => Some(Arith::Div),
            Tok::Punct("%") => Some(Arith::Rem),
            _ => None,
        })
    }

    /// Operands of one precedence level, kept flat, applied left to right.
    fn chain(
        &mut self,
        operand: fn(&mut Parser) -> Result<Expr, Error>,
        operator: fn(&Tok) -> Option<Arith>,
    ) -> Result<Expr, Error> {
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = operator(&self.peek().tok) {
            self.next();
            rest.push((op, operand(self)?));
        }
        Ok(match rest.is_empty() {
            true => first,
            false => Expr::Arith(Box::new(first), rest.into()),
        })
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        if !self.peek().is_punct("-") {
            return self.primary();
        }
        let at = self.next().at;
        self.nest(at)?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Negate(Box::new(operand)))
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let token = self.peek().clone();
        match &token.tok {
            Tok::Punct("(") => {
                self.next();
                self.nest(token.at)?;
                let inner = self.condition()?;
                self.expect_punct(")")?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Word(name) if self.peek_at(1).is_punct("(") && !is_reserved(name) => self.function(token.at, name),
            Tok::Segment(_) => Ok(Expr::Path(self.path()?.1)),
            Tok::Word(name) if !is_reserved(name) => Ok(Expr::Path(self.path()?.1)),
            _ => Ok(Expr::Literal(self.literal()?)),
        }
    }

    fn function(&mut self, at: usize, name: &str) -> Result<Expr, Error> {
        let upper = name.to_ascii_uppercase();
        if !matches!(upper.as_str(), "IS_DEFINED" | "STARTSWITH" | "ENDSWITH") {
            let why = match Aggregate::from_name(name) {
                Some(_) => format!("{name} is an aggregate: it belongs in the select list"),
                None => format!("unknown function {name}: use IS_DEFINED, STARTSWITH or ENDSWITH"),
            };
            return Err(invalid(at, why));
        }
        self.next();
        self.next();
        self.nest(at)?;
        let call = match upper.as_str() {
            "IS_DEFINED" => Expr::IsDefined(self.path()?.1),
            _ => {
                let first = self.additive()?;
                self.expect_punct(",")?;
                let second = self.additive()?;
                match upper.as_str() {
                    "STARTSWITH" => Expr::StartsWith(Box::new(first), Box::new(second)),
                    _ => Expr::EndsWith(Box::new(first), Box::new(second)),
                }
            }
        };
        self.expect_punct(")")?;
        self.depth -= 1;
        Ok(call)
    }

    fn literal(&mut self) -> Result<Literal, Error> {
        let token = self.next();
        Ok(match token.tok {
            Tok::Number(n) => Literal::Number(n),
            Tok::Text(t) => Literal::Text(t.into()),
            Tok::Word(_) if token.is_word("TRUE") => Literal::Bool(true),
            Tok::Word(_) if token.is_word("FALSE") => Literal::Bool(false),
            Tok::Word(_) if token.is_word("NULL") => Literal::Null,
            Tok::Word(_) if token.is_word("UNDEFINED") => Literal::Undefined,
            // A negative number in a list (elsewhere `-` is the operator).
            Tok::Punct("-") => match self.next() {
                Token {
                    tok: Tok::Number(n), ..
                } => Literal::Number(n.negate()),
                other => return Err(invalid(other.at, "expected a number after '-'")),
            },
            Tok::Punct("[") => {
                self.nest(token.at)?;
                let mut items = Vec::new();
                if !self.peek().is_punct("]") {
                    items.push(self.literal()?);
                    while self.peek().is_punct(",") {
                        self.next();
                        items.push(self.literal()?);
                    }
                }
                self.expect_punct("]")?;
                self.depth -= 1;
                Literal::List(items.into())
            }
            Tok::Word(w) if is_reserved(&w) => {
                return Err(invalid(
                    token.at,
                    format!("expected a value, found the reserved word {w}"),
                ))
            }
            _ => {
                return Err(invalid(
                    token.at,
                    format!("expected a value, found {}", token.describe()),
                ))
            }
        })
    }
}

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse_query(text).unwrap_err().message().to_owned()
    }

    fn condition_error(text: &str) -> String {
        parse_condition(text).unwrap_err().message().to_owned()
    }

    fn path(text: &str) -> Path {
        text.split('.').map(Box::from).collect()
    }

    #[test]
    fn a_whole_query() {
        let q = parse_query(
            "select top 3 properties.reported.fw AS version, count() from DEVICES \
             where tags.env = 'prod' group by properties.reported.fw",
        )
        .unwrap();
        assert_eq!(q.top, Some(3));
        assert!(!q.modules);
        assert_eq!(q.group_by.as_ref(), &[path("properties.reported.fw")]);
        let items = q.items.unwrap();
        assert_eq!(items[0].name.as_ref(), "version");
        assert_eq!(items[1].value, Value::Aggregate(Aggregate::Count, None));
        assert_eq!(items[1].name.as_ref(), "count");
        assert_eq!(
            q.condition,
            Some(Expr::Compare(
                Box::new(Expr::Path(path("tags.env"))),
                Compare::Eq,
                Box::new(Expr::Literal(Literal::Text("prod".into())))
            ))
        );
        let q = parse_query("SELECT * FROM devices.modules").unwrap();
        assert!(q.modules && q.items.is_none() && q.condition.is_none());
    }

    #[test]
    fn precedence_not_and_or_and_arithmetic() {
        let e = parse_condition("NOT a = 1 AND b OR c").unwrap().unwrap();
        let Expr::Or(terms) = e else { panic!("{e:?}") };
        let Expr::And(ands) = &terms[0] else { panic!() };
        assert!(matches!(&ands[0], Expr::Not(inner) if matches!(**inner, Expr::Compare(..))));
        let e = parse_condition("1 + 2 * 3 - 4 = x").unwrap().unwrap();
        let Expr::Compare(left, ..) = e else { panic!() };
        let Expr::Arith(first, rest) = *left else { panic!() };
        assert_eq!(*first, Expr::Literal(Literal::Number(Num::Int(1))));
        assert!(matches!(rest[0], (Arith::Add, Expr::Arith(..))));
        assert!(matches!(rest[1], (Arith::Sub, Expr::Literal(_))));
    }

    #[test]
    fn in_nin_and_not_in() {
        let e = parse_condition("x NOT IN [1, -2, 'a', [true]]").unwrap().unwrap();
        let Expr::Not(inner) = e else { panic!() };
        let Expr::In(_, list) = *inner else { panic!() };
        assert_eq!(list[1], Literal::Number(Num::Int(-2)));
        assert!(matches!(parse_condition("x nin []").unwrap(), Some(Expr::Not(_))));
        assert_eq!(
            condition_error("x IN 'a'"),
            "IN takes a list: [value, ...] at character offset 5"
        );
    }

    #[test]
    fn target_conditions() {
        assert_eq!(parse_condition(" * ").unwrap(), None);
        assert_eq!(
            parse_condition("from DEVICES.Modules where tags.a = 1").unwrap(),
            parse_condition("tags.a = 1").unwrap()
        );
        assert_eq!(
            condition_error("FROM devices WHERE a = 1"),
            "a condition may only start with FROM devices.modules WHERE at character offset 0"
        );
        assert_eq!(
            condition_error("* AND a"),
            "expected the end of the query, found 'AND' at character offset 2"
        );
        assert_eq!(
            condition_error(""),
            "expected a value, found the end of the query at character offset 0"
        );
    }

    #[test]
    fn reserved_words_and_bracketed_segments() {
        assert_eq!(
            condition_error("tags.group.name = 1"),
            "group is a reserved word: write it [[group]] in a path at character offset 5"
        );
        let e = parse_condition("tags.[[group]].[[a-b c]] = 1").unwrap().unwrap();
        assert!(
            matches!(e, Expr::Compare(left, ..) if *left == Expr::Path(vec!["tags".into(), "group".into(), "a-b c".into()].into()))
        );
        assert!(parse_condition("devices.modules.count = 1").is_ok());
    }

    #[test]
    fn select_list_rules() {
        assert_eq!(
            error("SELECT deviceId, COUNT() FROM devices"),
            "a path beside aggregates must be grouped with GROUP BY at character offset 7"
        );
        assert_eq!(
            error("SELECT deviceId FROM devices GROUP BY tags.a"),
            "a grouped query selects only its GROUP BY paths and aggregates at character offset 7"
        );
        assert_eq!(
            error("SELECT * FROM devices GROUP BY tags.a"),
            "SELECT * cannot be grouped: name the group paths and aggregates at character offset 7"
        );
        assert_eq!(
            error("SELECT COUNT() FROM devices.modules GROUP BY tags.a"),
            "GROUP BY is not supported on devices.modules at character offset 36"
        );
        assert_eq!(
            error("SELECT tags.a, properties.reported.a FROM devices"),
            "two items are named \"a\": rename one with AS at character offset 15"
        );
        assert_eq!(
            error("SELECT COUNT(*) FROM devices"),
            "expected ')', found '*' at character offset 13"
        );
        assert_eq!(
            error("SELECT MEDIAN(a) FROM devices"),
            "unknown aggregate MEDIAN: use COUNT, SUM, AVG, MIN or MAX at character offset 7"
        );
        assert_eq!(
            error("SELECT TOP -1 * FROM devices"),
            "TOP takes a whole number from 0 at character offset 11"
        );
        assert_eq!(
            error("SELECT TOP 1.5 * FROM devices"),
            "TOP takes a whole number from 0 at character offset 11"
        );
        assert_eq!(
            error("SELECT * FROM twins"),
            "expected devices or devices.modules after FROM at character offset 14"
        );
        assert!(parse_query("SELECT tags.a AS x, tags.a AS y FROM devices").is_ok());
    }

    #[test]
    fn functions() {
        assert_eq!(
            condition_error("LOWER(a) = 'x'"),
            "unknown function LOWER: use IS_DEFINED, STARTSWITH or ENDSWITH at character offset 0"
        );
        assert_eq!(
            condition_error("count() > 1"),
            "count is an aggregate: it belongs in the select list at character offset 0"
        );
        assert_eq!(
            condition_error("is_defined('a')"),
            "expected a path segment, found a string at character offset 11"
        );
        assert!(parse_condition("startswith(deviceId, 'a') AND EndsWith(tags.x + 'y', 'z')").is_ok());
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}1{} = 1", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(parse_condition(&ok).is_ok());
        let deep = format!("{}1{} = 1", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        assert_eq!(
            condition_error(&deep),
            format!("nested more than {MAX_NESTING} levels deep at character offset {MAX_NESTING}")
        );
        for unit in ["NOT ", "- ", "[", "IS_DEFINED(", "STARTSWITH("] {
            let text = unit.repeat(4000);
            assert!(parse_condition(&text).is_err(), "{unit}");
        }
        assert!(parse_condition("a AND ".repeat(1300).trim_end_matches("AND ")).is_ok());
    }

    #[test]
    fn length_is_bounded() {
        let long = format!("a = '{}'", "é".repeat(MAX_QUERY_CHARS));
        assert_eq!(
            condition_error(&long),
            format!("the query is longer than {MAX_QUERY_CHARS} characters at character offset {MAX_QUERY_CHARS}")
        );
        let fits = format!("a = '{}'", "é".repeat(MAX_QUERY_CHARS - 6));
        assert!(parse_condition(&fits).is_ok());
    }

    #[test]
    fn malformed_text() {
        assert_eq!(
            error("SELECT"),
            "expected a path segment, found the end of the query at character offset 6"
        );
        assert_eq!(
            error("SELECT * FROM devices WHERE"),
            "expected a value, found the end of the query at character offset 27"
        );
        assert_eq!(
            error("SELECT * FROM devices WHERE a = = 1"),
            "expected a value, found '=' at character offset 32"
        );
        assert_eq!(
            error("SELECT * FROM devices WHERE (a = 1"),
            "expected ')', found the end of the query at character offset 34"
        );
        assert_eq!(
            error("SELECT * FROM devices WHERE a = 1 = 2"),
            "expected the end of the query, found '=' at character offset 34"
        );
        assert_eq!(
            error("SELECT * FROM devices ORDER BY a"),
            "expected the end of the query, found 'ORDER' at character offset 22"
        );
    }
}
