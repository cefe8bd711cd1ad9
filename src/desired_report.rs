//! What a device-side replica did with a desired patch, as the front ends answer it.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::DesiredUpdate;

/// A [`DesiredUpdate`] with the desired `$version` of the replica after it, serialized as
/// JavaScript's `applyDesiredPatch` answers:
///
/// - `{"status": "applied", "version": V, "patch": {...}}`: `V` is the replica's new version;
/// - `{"status": "stale", "version": V}`: `V` is the patch's `$version`;
/// - `{"status": "gap", "version": V, "expected": E}`: `V` is the patch's `$version`, `E` the one
///   the replica waits for.
///
/// The version travels beside the update because [`DesiredUpdate::Applied`] does not carry it
/// (it is the replica's [`desired_version`](crate::DeviceTwin::desired_version) once applied).
///
/// ```
/// use serde_json::json;
/// use twindoc::{DesiredUpdateReport, DeviceTwin};
/// let view = json!({"desired": {"$version": 1}, "reported": {"$version": 1}});
/// let mut replica = DeviceTwin::from_device_view(&view)?;
/// let update = replica.apply_desired_patch(&json!({"fan": 2, "$version": 2}))?;
/// let report = DesiredUpdateReport::new(update, replica.desired_version());
/// assert_eq!(
///     serde_json::to_value(&report).unwrap(),
///     json!({"status": "applied", "version": 2, "patch": {"fan": 2}})
/// );
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredUpdateReport {
    /// What the replica did.
    pub update: DesiredUpdate,
    /// The replica's desired `$version` after the update.
    pub desired_version: u64,
}

impl DesiredUpdateReport {
    /// The report of `update`, the replica's desired version being `desired_version` after it.
    pub fn new(update: DesiredUpdate, desired_version: u64) -> Self {
        DesiredUpdateReport {
            update,
            desired_version,
        }
    }
}

impl Serialize for DesiredUpdateReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("DesiredUpdateReport", 3)?;
        match &self.update {
            DesiredUpdate::Applied { patch } => {
                out.serialize_field("status", "applied")?;
                out.serialize_field("version", &self.desired_version)?;
                out.serialize_field("patch", patch)?;
            }
            DesiredUpdate::Stale { version } => {
                out.serialize_field("status", "stale")?;
                out.serialize_field("version", version)?;
            }
            DesiredUpdate::Gap { expected, got } => {
                out.serialize_field("status", "gap")?;
                out.serialize_field("version", got)?;
                out.serialize_field("expected", expected)?;
            }
        }
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn stale_and_gap_name_the_patch_version() {
        let stale = DesiredUpdateReport::new(DesiredUpdate::Stale { version: 3 }, 5);
        assert_eq!(
            serde_json::to_value(&stale).unwrap(),
            json!({"status": "stale", "version": 3})
        );
        let gap = DesiredUpdateReport::new(DesiredUpdate::Gap { expected: 6, got: 9 }, 5);
        assert_eq!(
            serde_json::to_string(&gap).unwrap(),
            r#"{"status":"gap","version":9,"expected":6}"#
        );
    }
}
