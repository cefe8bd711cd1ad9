//! How a twin is held in memory.
//!
//! A twin is one compact tree ([`node`]): strings and keys as boxed `str`s, arrays as boxed
//! slices, objects as members in document order (searched in order while small, through a
//! position index once large), numbers as `serde_json::Number` so that `1.0` prints as `1.0`.
//! `$metadata` is not part of the tree ([`stamps`]): each member of desired and reported refers to
//! a stamp in its section's table, one stamp per write, and the metadata tree is written out from
//! the members and their stamps when the twin is printed. A section whose `$metadata` has a shape
//! stamps cannot reproduce byte for byte (partial or reordered metadata, unknown members in it)
//! keeps it inline as read, and its patches take the general path ([`inline`]).

pub(crate) mod inline;
pub(crate) mod node;
pub(crate) mod read;
pub(crate) mod section;
pub(crate) mod stamps;
