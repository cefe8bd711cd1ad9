//! The reserved member names of a twin: the two a desired or reported section root holds besides
//! its content, and the four a metadata node holds besides its children.

/// A desired or reported section's metadata tree ([S6](crate::semantics#s6-metadata)).
pub(crate) const METADATA: &str = "$metadata";
/// A desired or reported section's version counter
/// ([S5](crate::semantics#s5-versions-etag-and-concurrency)).
pub(crate) const VERSION: &str = "$version";

/// When a write last stamped a metadata node ([S6](crate::semantics#s6-metadata)).
pub(crate) const LAST_UPDATED: &str = "$lastUpdated";
/// The desired `$version` of the write that last stamped a metadata node
/// ([S6](crate::semantics#s6-metadata)).
pub(crate) const LAST_UPDATED_VERSION: &str = "$lastUpdatedVersion";
/// The configuration that last wrote a metadata node ([S6](crate::semantics#s6-metadata)): no
/// longer true once the engine re-stamps the node.
pub(crate) const LAST_UPDATED_BY: &str = "$lastUpdatedBy";
/// The digest of the configuration that last wrote a metadata node
/// ([S6](crate::semantics#s6-metadata)), dropped with [`LAST_UPDATED_BY`].
pub(crate) const LAST_UPDATED_BY_DIGEST: &str = "$lastUpdatedByDigest";

/// The identity-level member of a twin that records the status of each configuration targeting it
/// ([S12](crate::semantics#s12-automatic-configurations)).
pub(crate) const CONFIGURATIONS: &str = "configurations";

/// Whether `key`, a member of a desired or reported section root, is not content.
pub(crate) fn is_section_reserved(key: &str) -> bool {
    key == METADATA || key == VERSION
}
