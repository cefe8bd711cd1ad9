//! The limits a write is checked against ([S3](crate::semantics#s3-validation)): IoT Hub's numbers,
//! the switches that change them, and the engine's own bounds on what it reads.

/// How deep the engine itself walks a document, section root being depth 0, whatever the limits.
///
/// Every walk of the engine is recursive and bounded by this, so no input can overflow the stack.
/// Deeper input is rejected as `InvalidJson`. It sits below serde_json's own parser bound (128
/// levels for a whole document) so that every twin the engine writes parses again.
pub const MAX_NESTING: usize = 100;

/// The default for [`Limits::max_input_bytes`]: 128 MiB of JSON text.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 128 << 20;

/// The limits a write is checked against ([S3](crate::semantics#s3-validation)).
///
/// [`Limits::azure`] (the default) holds IoT Hub's numbers; [`Limits::none`] switches the numeric
/// limits off. The document-model rules (body is an object, key characters, no `$` keys, no `null`
/// in arrays) and the engine's own safety bounds ([`MAX_NESTING`], [`Limits::max_input_bytes`])
/// always apply. Each number can be changed with the `with_*` builders:
///
/// ```
/// let limits = twindoc::Limits::azure().with_max_depth(12).with_desired_bytes(64 * 1024);
/// assert_eq!(limits.max_depth(), Some(12));
/// assert_eq!(limits.max_key_bytes(), Some(1024));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    max_key_bytes: Option<usize>,
    max_value_bytes: Option<usize>,
    max_depth: Option<usize>,
    integer_range: bool,
    tags_bytes: Option<u64>,
    desired_bytes: Option<u64>,
    reported_bytes: Option<u64>,
    max_input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::azure()
    }
}

impl Limits {
    /// IoT Hub's limits: keys 1024 bytes, strings 4096 bytes, integers within ±2^52, depth 10,
    /// tags 8 KiB, desired and reported 32 KiB each.
    pub const fn azure() -> Self {
        Limits {
            max_key_bytes: Some(1024),
            max_value_bytes: Some(4096),
            max_depth: Some(10),
            integer_range: true,
            tags_bytes: Some(8192),
            desired_bytes: Some(32768),
            reported_bytes: Some(32768),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// No numeric limits (key and value length, integer range, depth, section sizes). The
    /// document-model rules and the engine's safety bounds still apply.
    pub const fn none() -> Self {
        Limits {
            max_key_bytes: None,
            max_value_bytes: None,
            max_depth: None,
            integer_range: false,
            tags_bytes: None,
            desired_bytes: None,
            reported_bytes: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// The longest key allowed, in UTF-8 bytes.
    pub fn max_key_bytes(&self) -> Option<usize> {
        self.max_key_bytes
    }
    /// The longest string value allowed, in UTF-8 bytes.
    pub fn max_value_bytes(&self) -> Option<usize> {
        self.max_value_bytes
    }
    /// The deepest object or array allowed, section root being depth 0.
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }
    /// Whether integer literals must lie within ±2^52.
    pub fn integer_range(&self) -> bool {
        self.integer_range
    }
    /// The largest size (S4) of each section: tags, desired, reported.
    pub fn section_bytes(&self, section: crate::Section) -> Option<u64> {
        match section {
            crate::Section::Tags => self.tags_bytes,
            crate::Section::Desired => self.desired_bytes,
            crate::Section::Reported => self.reported_bytes,
        }
    }
    /// The largest JSON text the engine parses, in bytes (an engine bound, kept by `none()`).
    pub fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    /// Sets the longest key, in UTF-8 bytes.
    pub fn with_max_key_bytes(mut self, bytes: usize) -> Self {
        self.max_key_bytes = Some(bytes);
        self
    }
    /// Sets the longest string value, in UTF-8 bytes.
    pub fn with_max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = Some(bytes);
        self
    }
    /// Sets the deepest object or array (at most [`MAX_NESTING`] takes effect).
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }
    /// Turns the ±2^52 integer range check on or off.
    pub fn with_integer_range(mut self, check: bool) -> Self {
        self.integer_range = check;
        self
    }
    /// Sets the largest tags section, by the S4 formula.
    pub fn with_tags_bytes(mut self, bytes: u64) -> Self {
        self.tags_bytes = Some(bytes);
        self
    }
    /// Sets the largest desired section, by the S4 formula.
    pub fn with_desired_bytes(mut self, bytes: u64) -> Self {
        self.desired_bytes = Some(bytes);
        self
    }
    /// Sets the largest reported section, by the S4 formula.
    pub fn with_reported_bytes(mut self, bytes: u64) -> Self {
        self.reported_bytes = Some(bytes);
        self
    }
    /// Sets the largest JSON text the engine parses, in bytes.
    pub fn with_max_input_bytes(mut self, bytes: usize) -> Self {
        self.max_input_bytes = bytes;
        self
    }
}
