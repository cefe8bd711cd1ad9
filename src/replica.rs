//! The device-side replica of a twin ([S8](crate::semantics#s8-the-device-side)).

use serde_json::{Map, Value};

use crate::check::check_body;
use crate::diff::diff_maps;
use crate::error::{Error, ErrorKind};
use crate::limits::MAX_NESTING;
use crate::names::{is_section_reserved, VERSION};
use crate::nesting::check_nesting;
use crate::patch::{merge_object, size_change, without_nulls};
use crate::size::members_size;
use crate::{Limits, Section};

/// What [`DeviceTwin::apply_desired_patch`] did with a desired patch notification.
#[derive(Clone, Debug, PartialEq)]
pub enum DesiredUpdate {
    /// The patch was the next version and is now part of the desired state. `patch` is the
    /// notification without `$version`, as given (`null`s included), for the application to act on.
    Applied {
        /// The patch as applied, without `$version`.
        patch: Value,
    },
    /// The patch was at or below the replica's version: already seen, ignored.
    Stale {
        /// The patch's `$version`.
        version: u64,
    },
    /// The patch skipped versions: it was not applied, the replica is unchanged, and the caller
    /// should fetch the full twin and pass it to [`DeviceTwin::apply_full_twin`].
    Gap {
        /// The version the replica was waiting for (its version + 1).
        expected: u64,
        /// The patch's `$version`.
        got: u64,
    },
}

/// A device's replica of its twin ([S8](crate::semantics#s8-the-device-side)): the desired
/// state it follows, and the reported state it keeps in step with the hub.
///
/// **Desired side.** Patch notifications are applied in version order
/// ([`apply_desired_patch`](Self::apply_desired_patch)); after a gap or a reconnect the full twin
/// replaces the desired state, and [`apply_full_twin`](Self::apply_full_twin) hands back the
/// catch-up patch (deletions included) so the application sees one consistent change.
///
/// **Reported side.** The replica keeps the *confirmed* state (what the hub last acknowledged)
/// and the *local* state (what the device reports now); `local == merge(confirmed, pending)`
/// always holds, with `pending = diff(confirmed, local)`. [`report`](Self::report) changes the
/// local state, [`take_reported_patch`](Self::take_reported_patch) gives the patch to send and
/// remembers the local state at that moment as *in flight*, and
/// [`confirm_reported`](Self::confirm_reported) makes that state the confirmed one once the hub
/// answers. A send that is never confirmed is simply part of the next patch.
///
/// Decision: one send at a time. A new [`take_reported_patch`](Self::take_reported_patch)
/// replaces the in-flight state (the earlier send is taken as lost), and the next patch is still
/// computed from the confirmed state. If a send whose answer was lost may nevertheless have
/// reached the hub, resynchronise with [`apply_full_twin`](Self::apply_full_twin) (as a device
/// does on reconnect) before sending again: the hub's reported state becomes the confirmed one.
///
/// ```
/// use serde_json::json;
/// use twindoc::{DesiredUpdate, DeviceTwin};
/// let mut twin = DeviceTwin::from_device_view(&json!({
///     "desired": {"fan": {"speed": 1, "mode": "eco"}, "$version": 4},
///     "reported": {"fw": "1.0", "$version": 10},
/// }))?;
///
/// // Desired patches apply in version order; a gap asks for the full twin.
/// let update = twin.apply_desired_patch(&json!({"fan": {"speed": 2}, "$version": 5}))?;
/// assert_eq!(update, DesiredUpdate::Applied { patch: json!({"fan": {"speed": 2}}) });
/// assert_eq!(twin.apply_desired_patch(&json!({"x": 1, "$version": 5}))?, DesiredUpdate::Stale { version: 5 });
/// assert_eq!(
///     twin.apply_desired_patch(&json!({"x": 1, "$version": 9}))?,
///     DesiredUpdate::Gap { expected: 6, got: 9 }
/// );
/// let catch_up = twin.apply_full_twin(&json!({
///     "desired": {"fan": {"speed": 3}, "x": 1, "$version": 9},
///     "reported": {"fw": "1.0", "$version": 10},
/// }))?;
/// assert_eq!(catch_up, Some(json!({"fan": {"speed": 3, "mode": null}, "x": 1, "$version": 9})));
/// assert_eq!(twin.desired(), json!({"fan": {"speed": 3}, "x": 1}).as_object().unwrap());
///
/// // Reported: send what differs from what the hub confirmed.
/// twin.report(&json!({"fw": "1.1", "fan": {"speed": 3}}))?;
/// let patch = twin.take_reported_patch();
/// assert_eq!(patch, Some(json!({"fw": "1.1", "fan": {"speed": 3}})));
/// twin.confirm_reported(11);
/// assert_eq!(twin.reported_version(), 11);
/// assert_eq!(twin.take_reported_patch(), None);
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceTwin {
    desired: Map<String, Value>,
    desired_version: u64,
    /// The reported state the hub last acknowledged.
    confirmed: Map<String, Value>,
    reported_version: u64,
    /// The device's current reported state.
    local: Map<String, Value>,
    /// The local state as it was when the last patch was taken, until confirmed.
    in_flight: Option<Map<String, Value>>,
    limits: Limits,
}

/// One section of a device view: its content (without `$version`) and its `$version`.
struct ViewSection {
    content: Map<String, Value>,
    version: u64,
}

impl DeviceTwin {
    /// A replica from the device view of a twin (what a device gets when it asks for its twin):
    /// `{"desired": {..., "$version": N}, "reported": {..., "$version": M}}`.
    ///
    /// The view must be an object holding both sections as objects, each with a non-negative
    /// integer `$version` (`InvalidTwin` otherwise). The content must follow the S3
    /// document-model rules (key characters, no `$` keys, no `null` in arrays, the engine's
    /// nesting bound); the hub's numeric limits are not re-checked on what it sends. Decision: a
    /// `$metadata` member at a section root is ignored, and `null` members are dropped, as a replace
    /// would. The local reported state starts equal to the confirmed one, nothing pending.
    pub fn from_device_view(view: &Value) -> Result<DeviceTwin, Error> {
        let (desired, reported) = parse_view(view)?;
        Ok(DeviceTwin {
            desired: desired.content,
            desired_version: desired.version,
            local: reported.content.clone(),
            confirmed: reported.content,
            reported_version: reported.version,
            in_flight: None,
            limits: Limits::azure(),
        })
    }

    /// The same replica checking [`report`](Self::report) against `limits` instead of IoT Hub's
    /// ([`Limits::azure`], the default).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The desired state, without `$version`.
    pub fn desired(&self) -> &Map<String, Value> {
        &self.desired
    }

    /// The version of the desired state (the last `$version` applied).
    pub fn desired_version(&self) -> u64 {
        self.desired_version
    }

    /// The device's current reported state (confirmed or not), without `$version`.
    pub fn reported(&self) -> &Map<String, Value> {
        &self.local
    }

    /// The reported state the hub last confirmed.
    pub fn confirmed_reported(&self) -> &Map<String, Value> {
        &self.confirmed
    }

    /// The reported `$version` the hub last gave (in a full twin or a confirmation).
    pub fn reported_version(&self) -> u64 {
        self.reported_version
    }

    /// Applies a desired patch notification (`{..., "$version": V}`), if it is the next version.
    ///
    /// The patch must be an object (`NotAnObject`) with a non-negative integer `$version`
    /// (`InvalidTwin`), and the rest must pass the S3 document-model rules (key characters, no
    /// `$` keys, no `null` in arrays, the engine's nesting bound); these checks come first, so an
    /// invalid patch is an error even when stale. Then: `V == version + 1` merges it (S2) and
    /// returns [`DesiredUpdate::Applied`]; `V <= version` is [`DesiredUpdate::Stale`];
    /// `V > version + 1` is [`DesiredUpdate::Gap`]. Only `Applied` changes the replica.
    pub fn apply_desired_patch(&mut self, patch: &Value) -> Result<DesiredUpdate, Error> {
        let Value::Object(members) = patch else {
            return Err(Error::new(
                ErrorKind::NotAnObject,
                "",
                "a desired patch must be a JSON object",
            ));
        };
        let version = version_of(members, "")?;
        // The nesting bound before anything is copied (a copy recurses too).
        check_nesting(patch, 0, MAX_NESTING)?;
        let body: Map<String, Value> = members
            .iter()
            .filter(|(k, _)| k.as_str() != VERSION)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        check_body(&body, &Limits::none())?;
        let expected = self.desired_version.checked_add(1);
        Ok(match expected {
            Some(expected) if version == expected => {
                merge_object(&mut self.desired, &body, None);
                self.desired_version = version;
                DesiredUpdate::Applied {
                    patch: Value::Object(body),
                }
            }
            Some(expected) if version > expected => DesiredUpdate::Gap { expected, got: version },
            _ => DesiredUpdate::Stale { version },
        })
    }

    /// Takes the full twin (a device view, as for [`from_device_view`](Self::from_device_view)),
    /// after a gap or a reconnect, and returns the catch-up patch: `diff(old desired, new desired)`
    /// plus `"$version"`, with `null` for every member deleted meanwhile, so that merging it into
    /// the old desired state gives the new one. `None` when content and version are both unchanged.
    ///
    /// Decisions:
    /// - The full twin is authoritative and replaces the desired state even when its `$version` is
    ///   *lower* than the replica's (a twin deleted and re-created restarts its versions; ignoring
    ///   it would leave the replica stuck), and even at an equal version when the content differs.
    /// - Reported: the view's reported state is what the hub holds, so it becomes the confirmed
    ///   state (and its `$version` the reported version). The local changes not yet confirmed
    ///   (`diff(old confirmed, old local)`) are kept on top of it: the new local state is
    ///   `merge(new confirmed, pending)`, and what is still to send is `diff(new confirmed, local)`
    ///   (empty when the hub already holds it). A send in flight is forgotten; a late
    ///   [`confirm_reported`](Self::confirm_reported) for it does nothing, and its changes, still
    ///   pending, are sent again unless the hub already has them.
    ///
    /// On error the replica is unchanged.
    pub fn apply_full_twin(&mut self, view: &Value) -> Result<Option<Value>, Error> {
        let (desired, reported) = parse_view(view)?;
        let pending = diff_maps(&self.confirmed, &self.local, false);
        let mut local = reported.content.clone();
        merge_object(&mut local, &pending, None);
        self.confirmed = reported.content;
        self.local = local;
        self.reported_version = reported.version;
        self.in_flight = None;

        let mut catch_up = diff_maps(&self.desired, &desired.content, false);
        let unchanged = catch_up.is_empty() && desired.version == self.desired_version;
        self.desired = desired.content;
        self.desired_version = desired.version;
        if unchanged {
            return Ok(None);
        }
        catch_up.insert(VERSION.to_owned(), desired.version.into());
        Ok(Some(Value::Object(catch_up)))
    }

    /// Merges a reported patch (S2) into the local reported state; nothing is sent yet.
    ///
    /// The patch is checked first against the replica's limits ([`Limits::azure`] unless set with
    /// [`with_limits`](Self::with_limits)): the S3 key and value rules, then the size of the
    /// resulting reported state (refused only when over the limit and larger than before). On
    /// error the replica is unchanged.
    pub fn report(&mut self, patch: &Value) -> Result<(), Error> {
        let Value::Object(body) = patch else {
            return Err(Error::new(
                ErrorKind::NotAnObject,
                "",
                "a reported patch must be a JSON object",
            ));
        };
        check_body(body, &self.limits)?;
        if let Some(max) = self.limits.section_bytes(Section::Reported) {
            let before = members_size(self.local.iter());
            let after = i128::from(before) + size_change(&self.local, body);
            if after > i128::from(max) && after > i128::from(before) {
                // Printed as a u64 (above `max`, so positive; a size in bytes, so within u64): an
                // i128's Display would be linked into the WebAssembly module for this one message.
                let after = u64::try_from(after).unwrap_or(u64::MAX);
                return Err(Error::new(
                    ErrorKind::SizeLimitExceeded,
                    "",
                    format!("reported would be {after} bytes, over the limit of {max}"),
                ));
            }
        }
        merge_object(&mut self.local, body, None);
        Ok(())
    }

    /// The reported patch to send now, `diff(confirmed, local)`, or `None` when the hub already
    /// holds the local state. When there is one, the local state at this moment becomes the
    /// in-flight state (replacing any earlier one) that [`confirm_reported`](Self::confirm_reported)
    /// confirms. When there is none, an earlier in-flight state is kept, since its answer may
    /// still come.
    pub fn take_reported_patch(&mut self) -> Option<Value> {
        let patch = diff_maps(&self.confirmed, &self.local, false);
        if patch.is_empty() {
            return None;
        }
        self.in_flight = Some(self.local.clone());
        Some(Value::Object(patch))
    }

    /// The hub accepted the last patch taken and answered with the new reported `$version`: the
    /// in-flight state becomes the confirmed one. Local changes made since stay pending. Decision:
    /// with nothing in flight (never taken, already confirmed, or forgotten by
    /// [`apply_full_twin`](Self::apply_full_twin)) this does nothing, the version included; a
    /// version not above the confirmed reported `$version` is stale (every reported write moves
    /// it up, as S8 treats desired versions) and does nothing either: the patch stays in flight.
    pub fn confirm_reported(&mut self, version: u64) {
        if version <= self.reported_version {
            return;
        }
        if let Some(state) = self.in_flight.take() {
            self.confirmed = state;
            self.reported_version = version;
        }
    }

    /// Whether a taken patch awaits its confirmation.
    pub fn has_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }
}

/// The two sections of a device view, checked.
fn parse_view(view: &Value) -> Result<(ViewSection, ViewSection), Error> {
    let Value::Object(view) = view else {
        return Err(invalid_twin("", "a device view must be a JSON object"));
    };
    // The nesting bound before anything is copied; section roots are depth 0.
    for name in ["desired", "reported"] {
        if let Some(section) = view.get(name) {
            check_nesting(section, 0, MAX_NESTING).map_err(|e| e.under(&format!("/{name}")))?;
        }
    }
    let section = |name: &str| -> Result<ViewSection, Error> {
        let at = format!("/{name}");
        let Some(Value::Object(section)) = view.get(name) else {
            return Err(invalid_twin(
                &at,
                &format!("the device view needs \"{name}\" as an object"),
            ));
        };
        let version = version_of(section, &at)?;
        let content: Map<String, Value> = section
            .iter()
            .filter(|(k, _)| !is_section_reserved(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        check_body(&content, &Limits::none()).map_err(|e| e.under(&at))?;
        let content = without_nulls(&content);
        Ok(ViewSection { content, version })
    };
    Ok((section("desired")?, section("reported")?))
}

/// The `$version` member of `holder`: present, a non-negative integer.
fn version_of(holder: &Map<String, Value>, at: &str) -> Result<u64, Error> {
    holder
        .get(VERSION)
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid_twin(&format!("{at}/{VERSION}"), "$version must be a non-negative integer"))
}

fn invalid_twin(path: &str, message: &str) -> Error {
    Error::new(ErrorKind::InvalidTwin, path, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replica() -> DeviceTwin {
        DeviceTwin::from_device_view(&json!({
            "desired": {"a": {"b": 1}, "$version": 3},
            "reported": {"r": 1, "$version": 7}
        }))
        .unwrap()
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn views_are_checked() {
        for (view, path) in [
            (json!([]), ""),
            (json!({"desired": {"$version": 1}}), "/reported"),
            (json!({"desired": [], "reported": {"$version": 1}}), "/desired"),
            (
                json!({"desired": {"$version": "1"}, "reported": {"$version": 1}}),
                "/desired/$version",
            ),
            (
                json!({"desired": {"$version": 1}, "reported": {"$version": -1}}),
                "/reported/$version",
            ),
            (
                json!({"desired": {"$version": 1}, "reported": {}}),
                "/reported/$version",
            ),
        ] {
            let e = DeviceTwin::from_device_view(&view).unwrap_err();
            assert_eq!((e.kind(), e.path()), (ErrorKind::InvalidTwin, path), "{view}");
        }
        let e =
            DeviceTwin::from_device_view(&json!({"desired": {"a b": 1, "$version": 1}, "reported": {"$version": 1}}))
                .unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::InvalidKey, "/desired/a b"));
        let twin = DeviceTwin::from_device_view(&json!({
            "desired": {"a": {"n": null}, "$version": 2, "$metadata": {}},
            "reported": {"$version": 5}
        }))
        .unwrap();
        assert_eq!(twin.desired(), &map(json!({"a": {}})));
        assert_eq!((twin.desired_version(), twin.reported_version()), (2, 5));
    }

    #[test]
    fn desired_patches_apply_in_order() {
        let mut t = replica();
        let p = json!({"a": {"b": null, "c": [1]}, "$version": 4});
        assert_eq!(
            t.apply_desired_patch(&p).unwrap(),
            DesiredUpdate::Applied {
                patch: json!({"a": {"b": null, "c": [1]}})
            }
        );
        assert_eq!(t.desired(), &map(json!({"a": {"c": [1]}})));
        assert_eq!(t.apply_desired_patch(&p).unwrap(), DesiredUpdate::Stale { version: 4 });
        let before = t.clone();
        assert_eq!(
            t.apply_desired_patch(&json!({"z": 1, "$version": 6})).unwrap(),
            DesiredUpdate::Gap { expected: 5, got: 6 }
        );
        assert_eq!(t, before);
    }

    #[test]
    fn bad_desired_patches_change_nothing() {
        let mut t = replica();
        let before = t.clone();
        for (patch, kind) in [
            (json!({"a": 1}), ErrorKind::InvalidTwin),
            (json!({"a": 1, "$version": 4.5}), ErrorKind::InvalidTwin),
            (json!([1]), ErrorKind::NotAnObject),
            (json!({"a": [null], "$version": 4}), ErrorKind::NullInArray),
            (json!({"$metadata": {}, "$version": 4}), ErrorKind::InvalidKey),
        ] {
            assert_eq!(t.apply_desired_patch(&patch).unwrap_err().kind(), kind, "{patch}");
        }
        assert_eq!(t, before);
        let mut top = DeviceTwin::from_device_view(&json!({
            "desired": {"$version": u64::MAX}, "reported": {"$version": 1}
        }))
        .unwrap();
        assert_eq!(
            top.apply_desired_patch(&json!({"$version": u64::MAX})).unwrap(),
            DesiredUpdate::Stale { version: u64::MAX }
        );
    }

    #[test]
    fn deep_input_is_refused() {
        let mut deep = json!(1);
        for _ in 0..=MAX_NESTING {
            deep = json!({ "a": deep });
        }
        let mut t = replica();
        let e = t.apply_desired_patch(&json!({"x": deep, "$version": 4})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidJson);
        let e = t.report(&json!({"x": deep})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooDeep);
        let e = t
            .clone()
            .with_limits(Limits::none())
            .report(&json!({"x": deep}))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidJson);
        let view = json!({"desired": {"x": deep, "$version": 1}, "reported": {"$version": 1}});
        let e = DeviceTwin::from_device_view(&view).unwrap_err();
        assert_eq!(
            (e.kind(), e.path().starts_with("/desired/x/a")),
            (ErrorKind::InvalidJson, true)
        );
        assert_eq!(t, replica());
    }

    #[test]
    fn full_twin_catch_up() {
        let mut t = replica();
        let view = json!({"desired": {"a": {"b": 1}, "$version": 3}, "reported": {"r": 1, "$version": 7}});
        assert_eq!(t.apply_full_twin(&view).unwrap(), None);
        let view = json!({"desired": {"a": {"b": 1}, "$version": 4}, "reported": {"r": 1, "$version": 7}});
        assert_eq!(t.apply_full_twin(&view).unwrap(), Some(json!({"$version": 4})));
        // Lower version: still authoritative.
        let view = json!({"desired": {"x": 1, "$version": 1}, "reported": {"$version": 1}});
        assert_eq!(
            t.apply_full_twin(&view).unwrap(),
            Some(json!({"x": 1, "a": null, "$version": 1}))
        );
        assert_eq!((t.desired_version(), t.reported_version()), (1, 1));
        assert!(t.reported().is_empty());
    }

    #[test]
    fn full_twin_keeps_pending_reports() {
        let mut t = replica();
        t.report(&json!({"r": null, "s": {"x": 1}})).unwrap();
        assert_eq!(t.take_reported_patch(), Some(json!({"s": {"x": 1}, "r": null})));
        assert!(t.has_in_flight());
        let view = json!({"desired": {"$version": 3}, "reported": {"r": 2, "s": {"y": 2}, "q": 1, "$version": 9}});
        t.apply_full_twin(&view).unwrap();
        assert!(!t.has_in_flight());
        assert_eq!(t.confirmed_reported(), &map(json!({"r": 2, "s": {"y": 2}, "q": 1})));
        assert_eq!(t.reported(), &map(json!({"s": {"y": 2, "x": 1}, "q": 1})));
        // The late confirmation of the forgotten send does nothing.
        t.confirm_reported(8);
        assert_eq!(t.reported_version(), 9);
        assert_eq!(t.take_reported_patch(), Some(json!({"s": {"x": 1}, "r": null})));
        t.confirm_reported(10);
        assert_eq!(t.reported_version(), 10);
        assert_eq!(t.confirmed_reported(), t.reported());
    }

    #[test]
    fn reports_diff_against_the_confirmed_state() {
        let mut t = replica();
        t.report(&json!({"r": 1})).unwrap();
        assert_eq!(t.take_reported_patch(), None);
        t.report(&json!({"r": 2})).unwrap();
        assert_eq!(t.take_reported_patch(), Some(json!({"r": 2})));
        t.report(&json!({"r": 1})).unwrap();
        // Back to the confirmed state: nothing to send, but the in-flight send is kept.
        assert_eq!(t.take_reported_patch(), None);
        assert!(t.has_in_flight());
        t.confirm_reported(8);
        assert_eq!(t.take_reported_patch(), Some(json!({"r": 1})));
        // Never confirmed: part of the next diff.
        t.report(&json!({"n": true})).unwrap();
        assert_eq!(t.take_reported_patch(), Some(json!({"r": 1, "n": true})));
        t.confirm_reported(9);
        assert_eq!(t.reported_version(), 9);
        assert_eq!(t.take_reported_patch(), None);
        t.confirm_reported(99);
        assert_eq!(t.reported_version(), 9);
    }

    #[test]
    fn a_stale_confirmation_is_ignored() {
        let mut t = replica();
        t.report(&json!({"r": 2})).unwrap();
        t.take_reported_patch();
        t.confirm_reported(8);
        t.report(&json!({"r": 3})).unwrap();
        assert_eq!(t.take_reported_patch(), Some(json!({"r": 3})));
        // The hub's reported $version only grows: 8 (or less) cannot confirm a later send.
        for stale in [8, 5] {
            t.confirm_reported(stale);
            assert!(t.has_in_flight());
            assert_eq!(t.reported_version(), 8);
            assert_eq!(t.confirmed_reported(), &map(json!({"r": 2})));
        }
        t.confirm_reported(9);
        assert!(!t.has_in_flight());
        assert_eq!(t.confirmed_reported(), &map(json!({"r": 3})));
    }

    #[test]
    fn reports_are_validated() {
        let mut t = replica();
        let before = t.clone();
        assert_eq!(t.report(&json!({"a.b": 1})).unwrap_err().kind(), ErrorKind::InvalidKey);
        assert_eq!(t.report(&json!(1)).unwrap_err().kind(), ErrorKind::NotAnObject);
        assert_eq!(
            t.report(&json!({"a": 1u64 << 53})).unwrap_err().kind(),
            ErrorKind::IntegerOutOfRange
        );
        let big = "x".repeat(4000);
        for i in 0..8 {
            t.report(&json!({ format!("k{i}"): big })).unwrap();
        }
        let e = t.report(&json!({"k9": big})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SizeLimitExceeded);
        // Shrinking is allowed even over the limit.
        let mut loose = t.clone().with_limits(Limits::none());
        loose.report(&json!({"k9": big})).unwrap();
        let mut strict = loose.with_limits(Limits::azure());
        strict.report(&json!({"k9": "y"})).unwrap();
        assert_ne!(t, before);
    }
}
