//! The engine's nesting bound ([`MAX_NESTING`]) on documents that come from outside: every walk
//! of the engine is recursive, so no object or array may lie deeper than it walks.

use serde_json::{Map, Value};

use crate::doc::node::Node;
use crate::error::{Error, ErrorKind, PathStack, Token};
use crate::limits::MAX_NESTING;

/// Checks only the engine's nesting bound, for documents loaded from outside: `value` sits at
/// `depth`, and no object or array in it may lie deeper than `bound`.
pub(crate) fn check_nesting(value: &Value, depth: usize, bound: usize) -> Result<(), Error> {
    walk(value, depth, bound, &mut PathStack::default()).map_err(|path| too_nested(path.pointer()))
}

/// The engine's nesting bound on a node read from outside: `node` sits at `depth`, and no object
/// or array in it may lie deeper than `bound`. `prefix` is the pointer of `node`.
pub(crate) fn check_node_nesting(node: &Node, depth: usize, bound: usize, prefix: &str) -> Result<(), Error> {
    walk(node, depth, bound, &mut PathStack::default())
        .map_err(|path| too_nested(format!("{prefix}{}", path.pointer())))
}

/// The walk of both checks: `tree` sits at `depth`; the path of the first object or array deeper
/// than `bound` is the error.
fn walk<'a, T: Tree>(tree: &'a T, depth: usize, bound: usize, path: &mut PathStack<'a>) -> Result<(), PathStack<'a>> {
    if depth > bound && tree.is_container() {
        return Err(std::mem::take(path));
    }
    tree.try_for_each_child(|token, child| {
        path.push(token);
        walk(child, depth + 1, bound, path)?;
        path.pop();
        Ok(())
    })
}

/// The two JSON trees the engine reads documents into: `serde_json` values, and the twin's nodes.
/// Generic, not dynamic: each check gets a walk of its own.
trait Tree {
    /// Whether this is an object or an array.
    fn is_container(&self) -> bool;
    /// Calls `visit` on each member of an object or element of an array, with the token naming
    /// it, up to the first error.
    fn try_for_each_child<'a>(
        &'a self,
        visit: impl FnMut(Token<'a>, &'a Self) -> Result<(), PathStack<'a>>,
    ) -> Result<(), PathStack<'a>>;
}

impl Tree for Value {
    fn is_container(&self) -> bool {
        matches!(self, Value::Object(_) | Value::Array(_))
    }
    fn try_for_each_child<'a>(
        &'a self,
        mut visit: impl FnMut(Token<'a>, &'a Self) -> Result<(), PathStack<'a>>,
    ) -> Result<(), PathStack<'a>> {
        match self {
            Value::Object(map) => map.iter().try_for_each(|(k, v)| visit(Token::Key(k), v)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| visit(Token::Index(i), v)),
            _ => Ok(()),
        }
    }
}

impl Tree for Node {
    fn is_container(&self) -> bool {
        matches!(self, Node::Object(_) | Node::Array(_))
    }
    fn try_for_each_child<'a>(
        &'a self,
        mut visit: impl FnMut(Token<'a>, &'a Self) -> Result<(), PathStack<'a>>,
    ) -> Result<(), PathStack<'a>> {
        match self {
            Node::Object(object) => object.iter().try_for_each(|(k, v)| visit(Token::Key(k), v)),
            Node::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| visit(Token::Index(i), v)),
            _ => Ok(()),
        }
    }
}

type Object = Map<String, Value>;

/// Two documents as objects (`NotAnObject` otherwise, naming them as `what`), each within the
/// engine's nesting bound; one level more is allowed for a section's `$metadata`, which mirrors
/// the content one level deeper.
pub(crate) fn object_pair<'a>(
    first: &'a Value,
    second: &'a Value,
    what: &str,
) -> Result<(&'a Object, &'a Object), Error> {
    let (Value::Object(first_map), Value::Object(second_map)) = (first, second) else {
        return Err(Error::new(
            ErrorKind::NotAnObject,
            "",
            format!("{what} must be JSON objects"),
        ));
    };
    check_nesting(first, 0, MAX_NESTING + 1)?;
    check_nesting(second, 0, MAX_NESTING + 1)?;
    Ok((first_map, second_map))
}

/// The error of a document nested deeper than the engine walks, at `path`.
pub(crate) fn too_nested(path: String) -> Error {
    Error::new(
        ErrorKind::InvalidJson,
        path,
        format!("the document is nested deeper than the engine's bound of {MAX_NESTING} levels"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::node::NO_STAMP;
    use serde_json::json;

    #[test]
    fn nesting_beyond_the_bound_names_its_path() {
        let node = Node::from_value(&json!({"a": [{"b": {}}]}), NO_STAMP, false);
        assert!(check_node_nesting(&node, 0, 3, "").is_ok());
        let e = check_node_nesting(&node, 0, 2, "/x").unwrap_err();
        assert_eq!((e.code(), e.path()), ("InvalidJson", "/x/a/0/b"));
    }

    #[test]
    fn values_and_nodes_fail_at_the_same_path() {
        let value = json!({"a": [{"b": {}}, [[1]]], "c": {"d": []}});
        let node = Node::from_value(&value, NO_STAMP, false);
        for bound in 0..4 {
            let by_value = check_nesting(&value, 0, bound).map_err(|e| e.path().to_owned());
            let by_node = check_node_nesting(&node, 0, bound, "").map_err(|e| e.path().to_owned());
            assert_eq!(by_value, by_node, "bound {bound}");
        }
        assert_eq!(check_nesting(&value, 0, 1).unwrap_err().path(), "/a/0");
    }
}
