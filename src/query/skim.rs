//! A twin's JSON text read only as far as a query's condition looks, so that the twins it leaves
//! out (usually most of a fleet) are never loaded whole: their members the condition does not
//! name are skipped, their syntax still checked.

use std::borrow::Cow;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::parser::Expr;
use crate::doc::node::{KeySeed, Node, Object, NO_STAMP};
use crate::error::{Error, ErrorKind};
use crate::json::check_input_size;
use crate::Limits;

/// The members a condition reads, as a tree of names from the document root. A member that a
/// path ends at is read whole; one that a path goes through is read only as far as it needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Needs {
    whole: bool,
    children: Vec<(Box<str>, Needs)>,
}

impl Needs {
    /// Everything `expr` reads (its depth is bounded by the parser), and `moduleId`, which the
    /// `FROM` collection looks at.
    pub(crate) fn of(expr: Option<&Expr>) -> Needs {
        let mut needs = Needs::default();
        needs.add(&["moduleId".into()]);
        if let Some(expr) = expr {
            needs.add_expr(expr);
        }
        needs
    }

    fn add(&mut self, path: &[Box<str>]) {
        let Some((first, rest)) = path.split_first() else {
            self.whole = true;
            return;
        };
        let at = match self.children.iter().position(|(name, _)| name == first) {
            Some(at) => at,
            None => {
                self.children.push((first.clone(), Needs::default()));
                self.children.len() - 1
            }
        };
        if let Some((_, child)) = self.children.get_mut(at) {
            child.add(rest);
        }
    }

    fn add_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Literal(_) => {}
            Expr::Path(path) | Expr::IsDefined(path) => self.add(path),
            Expr::Negate(operand) | Expr::Not(operand) | Expr::In(operand, _) => self.add_expr(operand),
            Expr::Arith(first, rest) => {
                self.add_expr(first);
                rest.iter().for_each(|(_, operand)| self.add_expr(operand));
            }
            Expr::Compare(left, _, right) | Expr::StartsWith(left, right) | Expr::EndsWith(left, right) => {
                self.add_expr(left);
                self.add_expr(right);
            }
            Expr::And(terms) | Expr::Or(terms) => terms.iter().for_each(|term| self.add_expr(term)),
        }
    }

    fn child(&self, name: &str) -> Option<&Needs> {
        self.children.iter().find(|(n, _)| &**n == name).map(|(_, child)| child)
    }
}

/// The members of the twin in `text` that `needs` names. Text that is not JSON is
/// `InvalidJson` and a document that is not an object `InvalidTwin`, as [`crate::Twin::from_json`]
/// says; the rest of the twin's shape is checked only by a whole read.
pub(crate) fn skim(text: &str, needs: &Needs) -> Result<Object, Error> {
    check_input_size(text, &Limits::none())?;
    let malformed = |e: serde_json::Error| Error::new(ErrorKind::InvalidJson, "", format!("malformed JSON: {e}"));
    let mut de = serde_json::Deserializer::from_str(text);
    let node = Skim(needs).deserialize(&mut de).map_err(malformed)?;
    de.end().map_err(malformed)?;
    match node {
        Node::Object(object) => Ok(*object),
        _ => Err(Error::new(ErrorKind::InvalidTwin, "", "a twin must be a JSON object")),
    }
}

/// Resolves a path in a skimmed document: the members a condition names are there as the twin
/// holds them (its `$metadata` as written, which is what a twin prints).
pub(crate) fn resolve<'d, S: AsRef<str>>(doc: &'d Object, path: &[S]) -> Option<Cow<'d, Node>> {
    let (first, rest) = path.split_first()?;
    let mut node = doc.get(first.as_ref())?;
    for name in rest {
        node = node.as_object()?.get(name.as_ref())?;
    }
    Some(Cow::Borrowed(node))
}

/// Reads a value keeping the members its needs name. A value that is not an object is only
/// reached through a path that goes on past it, where it resolves to nothing: it is skipped and
/// stands as `null`, which no path goes through either.
struct Skim<'n>(&'n Needs);

impl<'de> DeserializeSeed<'de> for Skim<'_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skim<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Node::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut object = Object::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = match self.0.child(&key) {
                None => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Some(needs) if needs.whole => map.next_value::<Node>()?,
                Some(needs) => map.next_value_seed(Skim(needs))?,
            };
            // A repeated member: the last one counts, in the first one's place, as in a whole read.
            object.insert(key, value, NO_STAMP);
        }
        Ok(Node::object(object))
    }
}
