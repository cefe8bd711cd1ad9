//! The engine's nesting bound ([`MAX_NESTING`]) on documents that come from outside: every walk
//! of the engine is recursive, so no object or array may lie deeper than it walks.

use serde_json::{Map, Value};

use crate::doc::node::Node;
use crate::error::{Error, ErrorKind, PathStack, Token};
use crate::limits::MAX_NESTING;

/// Checks only the engine's nesting bound, for documents loaded from outside: `value` sits at
/// `depth`, and no object or array in it may lie deeper than `bound`.
pub(crate) fn check_nesting(value: &Value, depth: usize, bound: usize) -> Result<(), Error> {
    fn walk<'a>(value: &'a Value, depth: usize, bound: usize, path: &mut PathStack<'a>) -> Result<(), Error> {
        match value {
            Value::Object(_) | Value::Array(_) if depth > bound => Err(too_nested(path.pointer())),
            Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                path.push(Token::Key(k));
                walk(v, depth + 1, bound, path)?;
                path.pop();
                Ok(())
            }),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| {
                path.push(Token::Index(i));
                walk(v, depth + 1, bound, path)?;
                path.pop();
                Ok(())
            }),
            _ => Ok(()),
        }
    }
    walk(value, depth, bound, &mut PathStack::default())
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

/// The engine's nesting bound on a node read from outside: `node` sits at `depth`, and no object
/// or array in it may lie deeper than `bound`. `prefix` is the pointer of `node`.
pub(crate) fn check_node_nesting(node: &Node, depth: usize, bound: usize, prefix: &str) -> Result<(), Error> {
    fn walk<'a>(node: &'a Node, depth: usize, bound: usize, path: &mut PathStack<'a>) -> Result<(), PathStack<'a>> {
        match node {
            Node::Object(_) | Node::Array(_) if depth > bound => Err(std::mem::take(path)),
            Node::Object(object) => object.iter().try_for_each(|(k, v)| {
                path.push(Token::Key(k));
                walk(v, depth + 1, bound, path)?;
                path.pop();
                Ok(())
            }),
            Node::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| {
                path.push(Token::Index(i));
                walk(v, depth + 1, bound, path)?;
                path.pop();
                Ok(())
            }),
            _ => Ok(()),
        }
    }
    walk(node, depth, bound, &mut PathStack::default())
        .map_err(|path| too_nested(format!("{prefix}{}", path.pointer())))
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
}
