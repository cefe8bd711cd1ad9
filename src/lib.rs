// The README links `docs/semantics.md` through the reference `[semantics]`, which resolves on
// GitHub. In the crate docs this earlier definition of the same label takes precedence (the first
// definition of a label wins in Markdown), so there the link leads to the `semantics` module.
#![doc = "[semantics]: crate::semantics"]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
mod configuration;
mod delta;
mod desired_report;
mod diff;
mod digital_twin;
mod doc;
mod error;
mod events;
mod ids;
mod json;
mod limits;
mod metadata;
mod names;
mod nesting;
mod notification;
mod options;
mod patch;
mod pointer;
mod query;
mod replica;
mod size;
mod timestamp;
mod twin;
mod validate;

/// The contract twindoc implements, sections S1 to S14, as `docs/semantics.md` states it.
pub mod semantics {
    #![doc = include_str!("../docs/semantics.md")]
}

pub use configuration::{
    Application, ApplyFailure, Configuration, ConfigurationMetrics, ConfigurationStatus, Configurations,
    FleetApplication,
};
pub use delta::{component_property_ack, delta, writable_property_ack};
pub use desired_report::DesiredUpdateReport;
pub use diff::{diff, diff_json_patch};
pub use digital_twin::{digital_twin_operations, DigitalTwinEvent};
pub use error::{Error, ErrorKind};
pub use events::{ChangeEvent, EventProperties};
pub use ids::{check_device_id, check_module_id, MAX_ID_CHARS};
pub use json::{parse_body_json, parse_json};
pub use limits::{Limits, DEFAULT_MAX_INPUT_BYTES, MAX_NESTING};
pub use notification::Notification;
pub use options::{LimitsBase, LimitsOverrides, TimeInput};
pub use patch::merge;
pub use pointer::{escape_pointer_token, unescape_pointer_token};
pub use query::{Condition, Query, QueryRun};
pub use replica::{DesiredUpdate, DeviceTwin};
pub use timestamp::Timestamp;
pub use twin::{LastUpdated, Section, Twin, WriteOptions, WriteOutcome};
pub use validate::{validate, ValidationReport};
