//! `replica`: a device replica (`DeviceTwin`) follows a simulated hub (a `Twin`) through an
//! arbitrary sequence of operations, and the invariants of S8 (`../../../docs/semantics.md`) hold
//! after every step.
//!
//! Input: segments split on 0xFF (up to [`MAX_STEPS`]); each is one operation byte (see
//! [`Step::decode`]) followed by a JSON body for the operations that take one. The hub writes
//! desired patches and keeps every notification; the device receives them in order, again
//! (duplicates), not at all (dropped) or out of order, fetches the full twin, reports, and sends
//! its reported patches, which the hub applies and confirms, or which are lost on the way there
//! or on the way back.

use serde_json::{Map, Value};
use twindoc::{DesiredUpdate, DeviceTwin, Limits, Section, Timestamp, Twin, WriteOptions};

const SEPARATOR: u8 = 0xFF;
const MAX_STEPS: usize = 32;
const VERSION: &str = "$version";

/// One operation, as its byte chooses it: `byte % 10` the operation, `byte / 10` the notification
/// or the version it takes.
#[derive(Debug)]
enum Step {
    /// The hub takes the body as a desired patch and keeps its notification.
    HubWrite,
    /// The next notification not yet delivered or dropped reaches the device.
    DeliverNext,
    /// The next notification is lost.
    Drop,
    /// Any notification the hub ever sent (`byte / 10` picks it), again or out of order.
    DeliverAny(usize),
    /// The device fetches the full twin (`device_view`).
    FullTwin,
    /// The device reports the body locally.
    Report,
    /// The device sends its reported patch; the hub applies it and the answer comes back.
    Send,
    /// The device sends its reported patch, which never reaches the hub.
    SendLost,
    /// The hub applies the sent patch but the answer is lost: the device resynchronises with the
    /// full twin before it sends again (as `DeviceTwin` documents), unless the answer comes back
    /// late (`LateAnswer`) first.
    AnswerLost,
    /// The late answer of a send the hub applied, or a stray confirmation (`byte / 10` its
    /// version) when nothing is in flight, which must change nothing.
    LateAnswer(u64),
}

impl Step {
    fn decode(byte: u8) -> Step {
        let arg = byte / 10;
        match byte % 10 {
            0 => Step::HubWrite,
            1 => Step::DeliverNext,
            2 => Step::Drop,
            3 => Step::DeliverAny(usize::from(arg)),
            4 => Step::FullTwin,
            5 => Step::Report,
            6 => Step::Send,
            7 => Step::SendLost,
            8 => Step::AnswerLost,
            _ => Step::LateAnswer(u64::from(arg)),
        }
    }
}

/// The hub, the device, and what the network holds.
struct World {
    hub: Twin,
    device: DeviceTwin,
    /// Every desired notification the hub sent, in order.
    sent: Vec<Value>,
    /// The next notification delivered in order.
    cursor: usize,
    /// The hub's desired content at each desired `$version` it had.
    history: Vec<(u64, Map<String, Value>)>,
    /// The hub applied the in-flight send and its answer has not come back: the hub's reported
    /// state may differ from the device's confirmed one; its new reported `$version`.
    unanswered: Option<u64>,
    writes: i64,
}

pub fn run(data: &[u8]) {
    let hub = Twin::new("fuzz", time(0));
    let device = DeviceTwin::from_device_view(&hub.device_view()).expect("a hub's device view");
    let mut world = World {
        history: vec![(desired_version(&hub), content(&hub, Section::Desired))],
        hub,
        device,
        sent: Vec::new(),
        cursor: 0,
        unanswered: None,
        writes: 0,
    };
    world.check();
    for segment in data.split(|&b| b == SEPARATOR).take(MAX_STEPS) {
        let Some((&op, body)) = segment.split_first() else {
            continue;
        };
        let body = std::str::from_utf8(body)
            .ok()
            .and_then(|text| twindoc::parse_json(text, &Limits::none()).ok());
        world.step(Step::decode(op), body.as_ref());
        world.check();
    }
}

/// The time of the `n`th hub write.
fn time(n: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_795_860_000_000 + n * 1_500).expect("in range")
}

/// A section's content, without `$metadata` and `$version`.
fn content(twin: &Twin, section: Section) -> Map<String, Value> {
    match twin.content_value(section) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn desired_version(twin: &Twin) -> u64 {
    twin.section_version(Section::Desired)
        .expect("a hub twin has a desired $version")
}

/// `merge(doc, patch)` on maps.
fn merged(doc: &Map<String, Value>, patch: &Value) -> Map<String, Value> {
    let mut doc = Value::Object(doc.clone());
    twindoc::merge(&mut doc, patch).unwrap_or_else(|e| panic!("{patch} does not merge: {e}"));
    match doc {
        Value::Object(map) => map,
        _ => unreachable!("a merge keeps an object"),
    }
}

impl World {
    fn options(&mut self) -> WriteOptions {
        self.writes += 1;
        WriteOptions::new(time(self.writes))
    }

    fn step(&mut self, step: Step, body: Option<&Value>) {
        match step {
            Step::HubWrite => {
                let (Some(body), options) = (body, self.options()) else {
                    return;
                };
                let Ok(outcome) = self.hub.patch(Section::Desired, body, &options) else {
                    return;
                };
                let notification = outcome.notification.expect("a desired write notifies the device");
                self.sent.push(notification.to_value());
                self.history
                    .push((desired_version(&self.hub), content(&self.hub, Section::Desired)));
            }
            Step::DeliverNext => {
                if let Some(notification) = self.sent.get(self.cursor).cloned() {
                    self.cursor += 1;
                    self.deliver(&notification);
                }
            }
            Step::Drop => self.cursor = (self.cursor + 1).min(self.sent.len()),
            Step::DeliverAny(pick) => {
                if !self.sent.is_empty() {
                    let notification = self.sent[pick % self.sent.len()].clone();
                    self.deliver(&notification);
                }
            }
            Step::FullTwin => self.full_twin(),
            Step::Report => {
                let Some(body) = body else {
                    return;
                };
                let before = self.device.clone();
                if self.device.report(body).is_err() {
                    assert_eq!(self.device, before, "a refused report changed the replica");
                    return;
                }
                // The local state is the old one merged with the report.
                assert_eq!(self.device.reported(), &merged(before.reported(), body), "report");
                assert_eq!(self.device.confirmed_reported(), before.confirmed_reported());
            }
            Step::Send | Step::SendLost | Step::AnswerLost => self.send(step),
            Step::LateAnswer(version) => {
                if let Some(version) = self.unanswered.take() {
                    assert!(self.device.has_in_flight(), "the unanswered send is in flight");
                    self.device.confirm_reported(version);
                    assert!(!self.device.has_in_flight());
                    assert_eq!(self.device.reported_version(), version);
                } else if !self.device.has_in_flight() {
                    let before = self.device.clone();
                    self.device.confirm_reported(version);
                    assert_eq!(
                        self.device, before,
                        "a confirmation with nothing in flight changed the replica"
                    );
                }
                // A send in flight that never reached the hub cannot be answered.
            }
        }
    }

    /// A desired notification reaches the device: S8's version rule.
    fn deliver(&mut self, notification: &Value) {
        let before = self.device.clone();
        let last = before.desired_version();
        let version = notification[VERSION].as_u64().expect("a notification has $version");
        let update = self
            .device
            .apply_desired_patch(notification)
            .unwrap_or_else(|e| panic!("a hub notification {notification} is refused: {e}"));
        let mut patch = notification.clone();
        patch.as_object_mut().expect("an object").remove(VERSION);
        if Some(version) == last.checked_add(1) {
            assert_eq!(update, DesiredUpdate::Applied { patch: patch.clone() });
            assert_eq!(self.device.desired_version(), version);
            assert_eq!(self.device.desired(), &merged(before.desired(), &patch), "old + patch");
            // Only the desired side moved.
            assert_eq!(self.device.reported(), before.reported());
            assert_eq!(self.device.confirmed_reported(), before.confirmed_reported());
            assert_eq!(self.device.has_in_flight(), before.has_in_flight());
        } else {
            let expected = if version <= last {
                DesiredUpdate::Stale { version }
            } else {
                DesiredUpdate::Gap {
                    expected: last + 1,
                    got: version,
                }
            };
            assert_eq!(update, expected, "version {version} after {last}");
            assert_eq!(self.device, before, "{update:?} changed the replica");
        }
    }

    /// The device fetches the full twin: its desired state becomes the hub's, the catch-up patch
    /// leads there from the old one, the hub's reported state becomes the confirmed one, and the
    /// local changes not yet confirmed stay on top of it.
    fn full_twin(&mut self) {
        let before = self.device.clone();
        let view = self.hub.device_view();
        let catch_up = self
            .device
            .apply_full_twin(&view)
            .unwrap_or_else(|e| panic!("the hub's device view is refused: {e}"));
        self.unanswered = None;
        let hub_desired = content(&self.hub, Section::Desired);
        let hub_version = desired_version(&self.hub);
        assert_eq!(self.device.desired(), &hub_desired, "desired after a full twin");
        assert_eq!(self.device.desired_version(), hub_version);
        match catch_up {
            None => {
                assert_eq!(before.desired(), &hub_desired, "no catch-up, but desired changed");
                assert_eq!(
                    before.desired_version(),
                    hub_version,
                    "no catch-up, but the version moved"
                );
            }
            Some(mut patch) => {
                let version = patch.as_object_mut().and_then(|p| p.remove(VERSION));
                assert_eq!(version.and_then(|v| v.as_u64()), Some(hub_version), "catch-up $version");
                assert_eq!(merged(before.desired(), &patch), hub_desired, "old desired + catch-up");
            }
        }
        let hub_reported = content(&self.hub, Section::Reported);
        assert_eq!(
            self.device.confirmed_reported(),
            &hub_reported,
            "confirmed after a full twin"
        );
        assert_eq!(
            Some(self.device.reported_version()),
            self.hub.section_version(Section::Reported)
        );
        assert!(!self.device.has_in_flight(), "a full twin forgets the send in flight");
        let pending = twindoc::diff(&obj(before.confirmed_reported()), &obj(before.reported())).expect("a diff");
        assert_eq!(self.device.reported(), &merged(&hub_reported, &pending), "pending kept");
    }

    /// The device takes its reported patch and sends it.
    fn send(&mut self, step: Step) {
        if self.unanswered.is_some() {
            // The answer of the last send was lost: resynchronise first.
            self.full_twin();
        }
        let before = self.device.clone();
        let Some(patch) = self.device.take_reported_patch() else {
            assert_eq!(before.reported(), before.confirmed_reported(), "nothing to send");
            assert_eq!(self.device, before, "taking no patch changed the replica");
            return;
        };
        assert!(self.device.has_in_flight());
        let expected = twindoc::diff(&obj(before.confirmed_reported()), &obj(before.reported())).expect("a diff");
        assert_eq!(patch, expected, "the reported patch is diff(confirmed, local)");
        if matches!(step, Step::SendLost) {
            return;
        }
        let options = self.options();
        let outcome = self
            .hub
            .patch(Section::Reported, &patch, &options)
            .unwrap_or_else(|e| panic!("the hub refuses the replica's reported patch {patch}: {e}"));
        let version = outcome.section_version.expect("a reported write has a $version");
        assert_eq!(
            &content(&self.hub, Section::Reported),
            self.device.reported(),
            "the hub's reported state after the send"
        );
        if matches!(step, Step::AnswerLost) {
            self.unanswered = Some(version);
            return;
        }
        self.device.confirm_reported(version);
        assert!(!self.device.has_in_flight());
        assert_eq!(self.device.reported_version(), version);
        assert_eq!(
            self.device.confirmed_reported(),
            before.reported(),
            "confirmed = what was sent"
        );
    }

    /// The invariants that hold after every step.
    fn check(&self) {
        let (confirmed, local) = (obj(self.device.confirmed_reported()), obj(self.device.reported()));
        let pending = twindoc::diff(&confirmed, &local).expect("a diff");
        let mut rebuilt = confirmed.clone();
        twindoc::merge(&mut rebuilt, &pending).expect("the pending patch merges");
        assert_eq!(
            rebuilt, local,
            "reported != merge(confirmed, diff(confirmed, reported))"
        );
        // The desired state is the hub's at the replica's version.
        let version = self.device.desired_version();
        if let Some((_, state)) = self.history.iter().find(|(v, _)| *v == version) {
            assert_eq!(self.device.desired(), state, "desired at version {version}");
        } else {
            panic!("the replica is at desired version {version}, which the hub never had");
        }
        if self.unanswered.is_none() {
            assert_eq!(
                self.device.confirmed_reported(),
                &content(&self.hub, Section::Reported),
                "confirmed = the hub's reported state"
            );
            assert_eq!(
                Some(self.device.reported_version()),
                self.hub.section_version(Section::Reported)
            );
        }
    }
}

fn obj(map: &Map<String, Value>) -> Value {
    Value::Object(map.clone())
}
