//! Automatic configurations ([S12](crate::semantics#s12-automatic-configurations)): IoT Hub's
//! automatic device and module management, applied offline to twins.
//!
//! A [`Configuration`] is read and checked from IoT Hub's JSON shape; [`Configurations`] is a set of
//! them with unique ids, applied to one twin ([`Configurations::apply`]) or to a fleet
//! ([`Configurations::apply_all`], with the metrics).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher as _};

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
use serde_json::{Map, Value};

use crate::diff::diff_maps;
use crate::doc::stamps::Fnv;
use crate::error::{Error, ErrorKind};
use crate::events::OwnedPath;
use crate::json::parse_json;
use crate::limits::MAX_NESTING;
use crate::names::{CONFIGURATIONS, LAST_UPDATED_BY};
use crate::nesting::check_nesting;
use crate::patch::without_nulls;
use crate::pointer::escape_pointer_token;
use crate::{Condition, Limits, Query, Section, Timestamp, Twin, WriteOptions, WriteOutcome};

/// The longest configuration id IoT Hub accepts, in characters.
const MAX_ID_CHARS: usize = 128;

/// The content key that names the whole desired section.
const DESIRED: &str = "properties.desired";

/// One automatic configuration: an id, a priority, a creation time, a target condition (S11), the
/// desired properties it sets and its custom metric queries.
///
/// ```
/// use serde_json::json;
/// use twindoc::Configuration;
/// let configuration = Configuration::from_value(&json!({
///     "id": "thermostats-eu", "priority": 10, "createdTimeUtc": "2026-11-01T00:00:00Z",
///     "targetCondition": "tags.region = 'eu'",
///     "content": {"deviceContent": {"properties.desired.telemetry": {"interval": 60}}}
/// }))?;
/// assert_eq!((configuration.id(), configuration.priority()), ("thermostats-eu", 10));
/// assert!(!configuration.is_module_configuration());
///
/// let error = Configuration::from_value(&json!({
///     "id": "x", "priority": -1, "targetCondition": "*", "content": {"deviceContent": {}}
/// })).unwrap_err();
/// assert_eq!((error.code(), error.path()), ("InvalidConfiguration", "/priority"));
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Configuration {
    id: String,
    priority: u64,
    created: Option<Timestamp>,
    /// `createdTimeUtc` to the nanosecond as given, for ranking: `created` keeps 100 ns.
    created_nanos: Option<i128>,
    condition: Condition,
    module: bool,
    /// The content keys as paths below `properties.desired` (empty: the section itself), with
    /// the value each path must hold (`null`: absent), in the order given.
    content: Vec<(Vec<String>, Value)>,
    digest: String,
    queries: Vec<(String, Query)>,
}

impl Configuration {
    /// Reads a configuration from its IoT Hub JSON shape. A malformed one is
    /// `InvalidConfiguration` (400 / 400004), its path a JSON Pointer into `value`
    /// (`/priority`, `/content/deviceContent/properties.desired.a..b`). Content values are not
    /// checked here: each twin's write checks them (S3).
    pub fn from_value(value: &Value) -> Result<Configuration, Error> {
        // Every walk below recurses: the engine's nesting bound first.
        check_nesting(value, 0, MAX_NESTING + 4).map_err(|e| invalid(e.path(), e.message()))?;
        let Value::Object(map) = value else {
            return Err(invalid("", "a configuration must be a JSON object"));
        };
        let id = match map.get("id") {
            Some(Value::String(id)) if is_valid_id(id) => id.clone(),
            _ => {
                return Err(invalid(
                    "/id",
                    "id must be 1 to 128 characters of lowercase letters, digits and -+%_*!'",
                ))
            }
        };
        let (condition, modules_prefix) = match map.get("targetCondition") {
            Some(Value::String(text)) => {
                Condition::parse_target(text).map_err(|e| invalid("/targetCondition", e.message()))?
            }
            _ => return Err(invalid("/targetCondition", "targetCondition must be a string")),
        };
        let priority = match optional(map, "priority") {
            None => 0,
            Some(Value::Number(n)) if n.is_u64() => n.as_u64().unwrap_or(0),
            Some(_) => return Err(invalid("/priority", "priority must be a non-negative integer")),
        };
        let created = match optional(map, "createdTimeUtc") {
            None => None,
            Some(Value::String(text)) => {
                Some(Timestamp::parse_rfc3339_nanos(text).map_err(|e| invalid("/createdTimeUtc", e.message()))?)
            }
            Some(_) => return Err(invalid("/createdTimeUtc", "createdTimeUtc must be RFC 3339 text")),
        };
        match optional(map, "labels") {
            None => {}
            Some(Value::Object(labels)) => {
                if let Some((name, _)) = labels.iter().find(|(_, v)| !v.is_string()) {
                    return Err(invalid(&pointer(&["labels", name]), "a label must be a string"));
                }
            }
            Some(_) => return Err(invalid("/labels", "labels must be an object of strings")),
        }
        let queries = metric_queries(map)?;
        let (module, content) = content(map)?;
        // Checked once the content gives the kind: the prefix selects module twins, which a
        // device configuration never targets.
        if modules_prefix && !module {
            return Err(invalid(
                "/targetCondition",
                "FROM devices.modules WHERE selects module twins: only a module configuration (moduleContent) may use it",
            ));
        }
        let digest = digest(content);
        let content = content_paths(content, module)?;
        Ok(Configuration {
            id,
            priority,
            created: created.map(|(time, _)| time),
            created_nanos: created.map(|(_, nanos)| nanos),
            condition,
            module,
            content,
            digest,
            queries,
        })
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The priority (0 when not given).
    pub fn priority(&self) -> u64 {
        self.priority
    }

    /// `createdTimeUtc`, when given (without one a configuration ranks as the oldest), to 100 ns;
    /// ranking compares the nanoseconds given.
    pub fn created_time(&self) -> Option<Timestamp> {
        self.created
    }

    /// The target condition.
    pub fn target_condition(&self) -> &Condition {
        &self.condition
    }

    /// Whether the content is `moduleContent` (module twins only) rather than `deviceContent`.
    pub fn is_module_configuration(&self) -> bool {
        self.module
    }

    /// What `$lastUpdatedByDigest` holds on the nodes this configuration writes: the decimal text
    /// of a 64-bit FNV-1a hash of its content (`deviceContent` or `moduleContent`), where an
    /// object counts as the sum of its members' hashes, so equal content (as JSON values: member
    /// order aside, `1` and `1.0` different) gives an equal digest. No clock, no randomness.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Whether the configuration targets `twin`: the twin is of its kind (a module twin for
    /// `moduleContent`, a device twin for `deviceContent`) and its condition is true.
    pub fn targets(&self, twin: &Twin) -> bool {
        twin.is_module() == self.module && self.condition.matches(twin)
    }

    /// Lower ranks paint first: priority, then creation time (absent is oldest), then id.
    fn rank(&self, other: &Configuration) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| self.created_nanos.cmp(&other.created_nanos))
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// A set of configurations with unique ids, applied together.
///
/// ```
/// use serde_json::json;
/// use twindoc::{Configurations, Limits, Section, Twin};
/// let configurations = Configurations::from_value(&json!([
///     {"id": "base", "targetCondition": "*", "priority": 1,
///      "content": {"deviceContent": {"properties.desired": {"a": 1, "b": 2}}}},
///     {"id": "layer", "targetCondition": "tags.env = 'prod'", "priority": 2,
///      "content": {"deviceContent": {"properties.desired.c": {"x": 1}}}}
/// ]))?;
/// let mut twin = Twin::from_value(json!({"deviceId": "d1", "tags": {"env": "prod"}}))?;
/// let now = "2026-12-01T00:00:00Z".parse()?;
/// let applied = configurations.apply(&mut twin, now, &Limits::azure())?;
/// assert_eq!(twin.content_value(Section::Desired), json!({"a": 1, "b": 2, "c": {"x": 1}}));
/// assert_eq!(twin.to_value()["configurations"], json!({"base": {"status": "applied"}, "layer": {"status": "applied"}}));
/// // One desired write (the twin had no version: it is now 1).
/// assert_eq!(applied.outcome.map(|o| (o.version, o.section_version)), Some((1, Some(1))));
/// // Nothing differs the second time: nothing is written.
/// assert!(configurations.apply(&mut twin, now, &Limits::azure())?.outcome.is_none());
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Configurations {
    list: Vec<Configuration>,
}

impl Configurations {
    /// A set of configurations; two with the same id are `InvalidConfiguration` at the second
    /// one's `/<index>/id`.
    pub fn new(list: Vec<Configuration>) -> Result<Configurations, Error> {
        let mut seen: HashSet<&str, BuildHasherDefault<Fnv>> = HashSet::default();
        for (index, configuration) in list.iter().enumerate() {
            if !seen.insert(configuration.id.as_str()) {
                return Err(invalid(
                    &format!("/{index}/id"),
                    format!("the id {:?} is given twice", configuration.id),
                ));
            }
        }
        Ok(Configurations { list })
    }

    /// Reads one configuration (an object: error paths from it, `/priority`) or a JSON array of
    /// them (error paths with the index first, `/0/priority`).
    pub fn from_value(value: &Value) -> Result<Configurations, Error> {
        match value {
            Value::Array(items) => {
                let list = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| Configuration::from_value(item).map_err(|e| e.under(&format!("/{index}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                Configurations::new(list)
            }
            Value::Object(_) => Configurations::new(vec![Configuration::from_value(value)?]),
            _ => Err(invalid(
                "",
                "configurations must be one configuration object or an array of them",
            )),
        }
    }

    /// As [`Configurations::from_value`], from JSON text (malformed text is `InvalidJson`).
    pub fn from_json(text: &str) -> Result<Configurations, Error> {
        Configurations::from_value(&parse_json(text, &Limits::none())?)
    }

    /// The configurations, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &Configuration> {
        self.list.iter()
    }

    /// How many configurations the set holds.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the set holds none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Applies the configurations to one twin at `now` (S12): the targeting ones are ranked and
    /// painted, and what differs is written as one desired patch checked against `limits`, with
    /// the removal of what configurations wrote outside every owned path; then the twin's
    /// `configurations` member records each targeting configuration's status.
    ///
    /// When the write breaks a rule, the twin is left unchanged, byte for byte (its
    /// `configurations` member included), and the write's error is returned (its path relative
    /// to the desired section).
    pub fn apply(&self, twin: &mut Twin, now: Timestamp, limits: &Limits) -> Result<Application, Error> {
        let module = twin.is_module();
        let mut targeting: Vec<&Configuration> = self
            .list
            .iter()
            .filter(|c| c.module == module && c.condition.matches(twin))
            .collect();
        insertion_sort(&mut targeting, |a, b| a.rank(b) == Ordering::Less);
        let painting = Painting::of(&targeting);
        let desired = twin.content_value(Section::Desired);
        let metadata = twin.metadata_value(Section::Desired);
        let mut body = Value::Object(Map::new());
        for (path, _) in painting.top_owned() {
            if let Some(entry) = painting.entry(&desired, path) {
                put(&mut body, path, entry);
            }
        }
        let mut removed = Vec::new();
        painting.removals(
            desired.as_object().unwrap_or(&Map::new()),
            metadata.as_ref().and_then(Value::as_object),
            &mut Vec::new(),
            &mut removed,
        );
        for path in removed {
            put(&mut body, &path, Value::Null);
        }
        let outcome = match body.as_object().is_some_and(|b| !b.is_empty()) {
            false => None,
            true => {
                let options = WriteOptions::new(now).limits(*limits);
                let mut outcome = twin.patch(Section::Desired, &body, &options)?.into_owned();
                let mut marks = Vec::new();
                // Every write stamps the section root: it is at the owned path of a
                // `properties.desired` key.
                if let Some((_, rank)) = painting.owners.iter().find(|(path, _)| path.is_empty()) {
                    marks.push((Vec::new(), *rank));
                }
                if let Value::Object(body) = &body {
                    painting.marks(body, &mut Vec::new(), &mut marks);
                }
                let owners: Vec<(&str, &str)> = targeting.iter().map(|c| (c.id(), c.digest())).collect();
                twin.mark_configured(&marks, &owners);
                // The change event shows the written nodes as the twin now holds them (S13).
                outcome.event.mark_configured(
                    painting
                        .owners
                        .iter()
                        .map(|(path, rank)| OwnedPath {
                            path: path.to_vec(),
                            by: targeting[*rank].id.as_str().into(),
                            digest: targeting[*rank].digest.as_str().into(),
                        })
                        .collect(),
                );
                Some(outcome)
            }
        };
        let mut statuses: Vec<(String, ConfigurationStatus)> = targeting
            .iter()
            .enumerate()
            .map(|(rank, c)| {
                let status = match painting.owners.iter().any(|(_, owner)| *owner == rank) {
                    true => ConfigurationStatus::Applied,
                    false => ConfigurationStatus::Targeted,
                };
                (c.id.clone(), status)
            })
            .collect();
        insertion_sort(&mut statuses, |a, b| a.0 < b.0);
        let member = (!statuses.is_empty()).then(|| {
            Value::Object(
                statuses
                    .iter()
                    .map(|(id, status)| {
                        let mut entry = Map::new();
                        entry.insert("status".into(), Value::String(status.as_str().into()));
                        (id.clone(), Value::Object(entry))
                    })
                    .collect(),
            )
        });
        twin.set_configurations(member.as_ref());
        Ok(Application { statuses, outcome })
    }

    /// Applies the configurations to every twin (as [`Configurations::apply`]), then computes the
    /// metrics over the twins after applying. A twin whose write fails is left unchanged and
    /// reported in [`FleetApplication::failures`]; the others are still applied.
    pub fn apply_all(&self, twins: &mut [Twin], now: Timestamp, limits: &Limits) -> FleetApplication {
        let mut failures = Vec::new();
        for (index, twin) in twins.iter_mut().enumerate() {
            if let Err(error) = self.apply(twin, now, limits) {
                let text = |name: &str| twin.resolve(&[name]).and_then(|n| n.as_str().map(str::to_owned));
                failures.push(ApplyFailure {
                    index,
                    device_id: text("deviceId"),
                    module_id: text("moduleId"),
                    error,
                });
            }
        }
        FleetApplication {
            metrics: self.metrics(twins),
            failures,
        }
    }

    /// Each configuration's metrics over `twins` (S12), in the order the configurations were
    /// given: `targetedCount` (twins of its kind its condition selects, evaluated on `twins` as
    /// they are), `appliedCount` (twins whose `configurations` member records it as `applied`)
    /// and the number of rows of each custom metric query.
    pub fn metrics(&self, twins: &[Twin]) -> Vec<(String, ConfigurationMetrics)> {
        self.list
            .iter()
            .map(|c| {
                let targeted_count = twins.iter().filter(|t| c.targets(t)).count() as u64;
                let applied_count = twins
                    .iter()
                    .filter(|t| {
                        t.resolve(&[CONFIGURATIONS, c.id.as_str(), "status"])
                            .is_some_and(|s| s.as_str() == Some(ConfigurationStatus::Applied.as_str()))
                    })
                    .count() as u64;
                let queries = c
                    .queries
                    .iter()
                    .map(|(name, query)| (name.clone(), query.run(twins).len() as u64))
                    .collect();
                let metrics = ConfigurationMetrics {
                    targeted_count,
                    applied_count,
                    queries,
                };
                (c.id.clone(), metrics)
            })
            .collect()
    }
}

/// Where a targeting configuration stands on a twin after an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigurationStatus {
    /// It owns at least one path, all of which hold its values.
    Applied,
    /// It targets the twin but owns no path (higher-ranked ones override all of its content).
    Targeted,
}

impl ConfigurationStatus {
    /// `"applied"` or `"targeted"`, as the twin's `configurations` member writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigurationStatus::Applied => "applied",
            ConfigurationStatus::Targeted => "targeted",
        }
    }
}

impl Serialize for ConfigurationStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What applying configurations to one twin did.
///
/// It serializes as `{"statuses": {"<id>": "applied" | "targeted"}, "outcome": WriteOutcome |
/// null}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    /// Each targeting configuration's status, by id (in id order); empty when none targets the
    /// twin.
    pub statuses: Vec<(String, ConfigurationStatus)>,
    /// The desired write, when something differed (`None`: nothing written, no version moved).
    pub outcome: Option<WriteOutcome<'static>>,
}

impl Serialize for Application {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Application", 2)?;
        out.serialize_field("statuses", &Pairs(&self.statuses))?;
        out.serialize_field("outcome", &self.outcome)?;
        out.end()
    }
}

/// A configuration's metrics over a fleet.
///
/// It serializes as `{"targetedCount": n, "appliedCount": n, "queries": {"<name>": n}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigurationMetrics {
    /// Twins of the configuration's kind that its condition selects.
    pub targeted_count: u64,
    /// Twins whose `configurations` member records it as `applied`.
    pub applied_count: u64,
    /// The number of rows of each custom metric query, in the order given.
    pub queries: Vec<(String, u64)>,
}

impl Serialize for ConfigurationMetrics {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("ConfigurationMetrics", 3)?;
        out.serialize_field("targetedCount", &self.targeted_count)?;
        out.serialize_field("appliedCount", &self.applied_count)?;
        out.serialize_field("queries", &Pairs(&self.queries))?;
        out.end()
    }
}

/// A twin of a fleet whose application failed (and which was left unchanged).
///
/// It serializes as `{"deviceId": ..., "moduleId": ... (module twins only), "error": {...}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyFailure {
    /// The twin's place among the twins given, from 0.
    pub index: usize,
    /// The twin's `deviceId`, when it has one.
    pub device_id: Option<String>,
    /// The twin's `moduleId` (module twins).
    pub module_id: Option<String>,
    /// Why its write was refused.
    pub error: Error,
}

impl Serialize for ApplyFailure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("deviceId", &self.device_id)?;
        if let Some(module_id) = &self.module_id {
            out.serialize_entry("moduleId", module_id)?;
        }
        out.serialize_entry("error", &self.error)?;
        out.end()
    }
}

/// What applying configurations to a fleet did: the metrics and the failed twins.
///
/// It serializes as `{"metrics": {"<id>": ConfigurationMetrics}, "failures": [ApplyFailure]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetApplication {
    /// Each configuration's metrics, by id, in the order the configurations were given.
    pub metrics: Vec<(String, ConfigurationMetrics)>,
    /// The twins whose write failed, in their order.
    pub failures: Vec<ApplyFailure>,
}

impl Serialize for FleetApplication {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("FleetApplication", 2)?;
        out.serialize_field("metrics", &Pairs(&self.metrics))?;
        out.serialize_field("failures", &self.failures)?;
        out.end()
    }
}

/// Name-value pairs written as a JSON object, in order.
struct Pairs<'a, T>(&'a [(String, T)]);

impl<T: Serialize> Serialize for Pairs<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            out.serialize_entry(name, value)?;
        }
        out.end()
    }
}

/// The configured desired state of one twin: the targeting configurations' content painted in
/// rank order, and which configuration owns each path.
struct Painting<'c> {
    /// The painted desired content; `null` marks a path that must be absent.
    painted: Value,
    /// Each owned path (below `properties.desired`) with its owner's rank.
    owners: Vec<(&'c [String], usize)>,
}

impl<'c> Painting<'c> {
    /// Paints `ranked` (lowest rank first): each path replaces what lower ranks put at or below
    /// it, and takes their ownership there.
    fn of(ranked: &[&'c Configuration]) -> Painting<'c> {
        let mut painted = Value::Object(Map::new());
        let mut owners: Vec<(&'c [String], usize)> = Vec::new();
        for (rank, configuration) in ranked.iter().enumerate() {
            for (path, value) in &configuration.content {
                owners.retain(|(owned, _)| !owned.starts_with(path));
                owners.push((path, rank));
                put(&mut painted, path, value.clone());
            }
        }
        Painting { painted, owners }
    }

    /// The owned paths that lie below no other owned path: their entries cover the others.
    fn top_owned(&self) -> impl Iterator<Item = &(&'c [String], usize)> {
        self.owners.iter().filter(|(path, _)| {
            !self
                .owners
                .iter()
                .any(|(other, _)| other.len() < path.len() && path.starts_with(other))
        })
    }

    /// The body entry for the owned `path`, or `None` when the twin already holds exactly the
    /// painted value there.
    fn entry(&self, desired: &Value, path: &[String]) -> Option<Value> {
        let want = lookup(&self.painted, path).filter(|v| !v.is_null());
        match (lookup(desired, path), want) {
            (None, None) => None,
            (Some(_), None) => Some(Value::Null),
            (Some(Value::Object(have)), Some(Value::Object(want))) => {
                let patch = diff_maps(have, want, false);
                (!patch.is_empty()).then_some(Value::Object(patch))
            }
            (Some(have), Some(want)) if have == want => None,
            (_, Some(Value::Object(want))) => Some(Value::Object(without_nulls(want))),
            (_, Some(want)) => Some(want.clone()),
        }
    }

    /// Collects the paths of the members of `content` (at `path`) that a configuration wrote
    /// (`$lastUpdatedBy` in `metadata`) and that lie in no owned path; a member with an owned
    /// path below it is kept, and only its members are looked at.
    fn removals(
        &self,
        content: &Map<String, Value>,
        metadata: Option<&Map<String, Value>>,
        path: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
    ) {
        for (key, value) in content {
            path.push(key.clone());
            let node = metadata.and_then(|m| m.get(key)).and_then(Value::as_object);
            let owned = self.owners.iter().any(|(owned, _)| path.starts_with(owned));
            let owned_below = self.owners.iter().any(|(owned, _)| owned.starts_with(path));
            if !owned {
                if !owned_below && node.is_some_and(|n| n.contains_key(LAST_UPDATED_BY)) {
                    out.push(path.clone());
                } else if let Value::Object(inner) = value {
                    self.removals(inner, node, path, out);
                }
            }
            path.pop();
        }
    }

    /// Collects the nodes a write of `body` stamps (its non-null members, at any depth) that lie
    /// at or below an owned path, each with the rank of the configuration owning the deepest
    /// owned path that holds it.
    fn marks<'b>(&self, body: &'b Map<String, Value>, path: &mut Vec<&'b str>, out: &mut Vec<(Vec<&'b str>, usize)>) {
        for (key, value) in body {
            if value.is_null() {
                continue;
            }
            path.push(key);
            let owner = self
                .owners
                .iter()
                .filter(|(owned, _)| owned.len() <= path.len() && owned.iter().zip(path.iter()).all(|(a, b)| a == b))
                .max_by_key(|(owned, _)| owned.len());
            if let Some((_, rank)) = owner {
                out.push((path.clone(), *rank));
            }
            if let Value::Object(inner) = value {
                self.marks(inner, path, out);
            }
            path.pop();
        }
    }
}

/// The value at `path` below `value`, through objects only.
fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |node, name| node.as_object()?.get(name))
}

/// Puts `value` at `path` below `target`, making each step on the way an object (a value that is
/// not one is replaced, as a patch would replace it).
fn put(target: &mut Value, path: &[impl AsRef<str>], value: Value) {
    let mut node = target;
    for name in path {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        node = map.entry(name.as_ref()).or_insert(Value::Null);
    }
    *node = value;
}

fn invalid(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidConfiguration, path, message)
}

/// The JSON Pointer of `tokens` from a configuration's root.
fn pointer(tokens: &[&str]) -> String {
    tokens.iter().map(|t| format!("/{}", escape_pointer_token(t))).collect()
}

/// An optional member: absent or `null` (as IoT Hub exports write missing members) is `None`.
fn optional<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// 1 to 128 characters of lowercase letters, digits and `-+%_*!'` (IoT Hub's rule).
fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-+%_*!'".contains(c))
}

/// `metrics.queries`: each a query (S11).
fn metric_queries(map: &Map<String, Value>) -> Result<Vec<(String, Query)>, Error> {
    let queries = match optional(map, "metrics") {
        None => return Ok(Vec::new()),
        Some(Value::Object(metrics)) => match optional(metrics, "queries") {
            None => return Ok(Vec::new()),
            Some(Value::Object(queries)) => queries,
            Some(_) => return Err(invalid("/metrics/queries", "metrics.queries must be an object")),
        },
        Some(_) => return Err(invalid("/metrics", "metrics must be an object")),
    };
    queries
        .iter()
        .map(|(name, text)| {
            let at = pointer(&["metrics", "queries", name]);
            match text {
                Value::String(text) => Query::parse(text)
                    .map(|query| (name.clone(), query))
                    .map_err(|e| invalid(&at, e.message())),
                _ => Err(invalid(&at, "a metric query must be a string")),
            }
        })
        .collect()
}

/// The content object (`deviceContent` or `moduleContent`) and whether it is a module's. A member
/// that is `null`, or an empty object beside a non-empty one, counts as absent (IoT Hub exports
/// show the unused kinds that way); any other member is refused.
fn content(map: &Map<String, Value>) -> Result<(bool, &Map<String, Value>), Error> {
    let Some(Value::Object(content)) = map.get("content") else {
        return Err(invalid(
            "/content",
            "content must be an object holding deviceContent or moduleContent",
        ));
    };
    let mut found: Vec<(bool, &str, &Value)> = Vec::new();
    for (key, value) in content {
        let module = match key.as_str() {
            "deviceContent" => false,
            "moduleContent" => true,
            _ if value.is_null() || value.as_object().is_some_and(Map::is_empty) => continue,
            _ => {
                return Err(invalid(
                    &pointer(&["content", key]),
                    "content may hold only deviceContent or moduleContent",
                ))
            }
        };
        if !value.is_null() {
            found.push((module, key, value));
        }
    }
    if found.len() == 2 {
        found.retain(|(_, _, v)| !v.as_object().is_some_and(Map::is_empty));
    }
    match found.as_slice() {
        [(module, key, value)] => match value {
            Value::Object(inner) => Ok((*module, inner)),
            _ => Err(invalid(&pointer(&["content", key]), format!("{key} must be an object"))),
        },
        [] => Err(invalid("/content", "content must hold deviceContent or moduleContent")),
        _ => Err(invalid(
            "/content",
            "content must hold exactly one of deviceContent and moduleContent",
        )),
    }
}

/// The content keys as paths below `properties.desired`, checked in order, each wholly before the
/// next (so the first problem is reported): it is `properties.desired` or `properties.desired.<p>`
/// with `<p>` dot-separated non-empty names, `properties.desired` itself holds an object, and it
/// lies neither at nor below an earlier key, nor above one (the later of two overlapping keys is
/// at fault).
fn content_paths(content: &Map<String, Value>, module: bool) -> Result<Vec<(Vec<String>, Value)>, Error> {
    let kind = if module { "moduleContent" } else { "deviceContent" };
    let mut paths = Vec::with_capacity(content.len());
    // The earlier keys, and their ancestors, by their text (a checked key's ancestors are the key
    // cut before each dot).
    let mut seen: HashSet<&str, BuildHasherDefault<Fnv>> = HashSet::default();
    let mut above: HashSet<&str, BuildHasherDefault<Fnv>> = HashSet::default();
    for (key, value) in content {
        let at = || pointer(&["content", kind, key]);
        let path: Vec<String> = match key.strip_prefix(DESIRED) {
            Some("") => Vec::new(),
            Some(rest) => match rest.strip_prefix('.') {
                Some(names) if names.split('.').all(|n| !n.is_empty()) => names.split('.').map(str::to_owned).collect(),
                _ => {
                    return Err(invalid(
                        &at(),
                        "a content key is properties.desired followed by dot-separated non-empty names",
                    ))
                }
            },
            None => {
                return Err(invalid(
                    &at(),
                    "a content key must be properties.desired or lie below it",
                ))
            }
        };
        if path.is_empty() && !value.is_object() {
            return Err(invalid(&at(), "properties.desired must be given an object"));
        }
        let ancestors = || {
            std::iter::once(DESIRED.len())
                .chain(key.match_indices('.').map(|(i, _)| i).filter(|i| *i > DESIRED.len()))
                .filter(|i| *i < key.len())
                .map(|i| &key[..i])
        };
        if above.contains(key.as_str()) || seen.contains(key.as_str()) || ancestors().any(|a| seen.contains(a)) {
            return Err(invalid(
                &at(),
                "content keys must not overlap: one lies at or below another",
            ));
        }
        seen.insert(key);
        above.extend(ancestors());
        paths.push((path, value.clone()));
    }
    Ok(paths)
}

/// The digest of a configuration's content: FNV-1a over its canonical form (see
/// [`Configuration::digest`]).
fn digest(content: &Map<String, Value>) -> String {
    let mut hasher = Fnv::default();
    canonical(&mut hasher, &Value::Object(content.clone()));
    hasher.finish().to_string()
}

/// Feeds `value` to `hasher` unambiguously (each kind tagged, each text and list with its length),
/// an object as the sum of its members' own hashes (key and value), which does not depend on
/// their order. The depth is bounded: the
/// configuration passed the nesting check.
fn canonical(hasher: &mut Fnv, value: &Value) {
    let text = |hasher: &mut Fnv, text: &str| {
        hasher.write(&(text.len() as u64).to_be_bytes());
        hasher.write(text.as_bytes());
    };
    match value {
        Value::Object(map) => {
            let mut sum = 0u64;
            for (key, value) in map {
                let mut member = Fnv::default();
                text(&mut member, key);
                canonical(&mut member, value);
                sum = sum.wrapping_add(member.finish());
            }
            hasher.write(b"{");
            hasher.write(&sum.to_be_bytes());
            hasher.write(&(map.len() as u64).to_be_bytes());
        }
        Value::Array(items) => {
            hasher.write(b"[");
            hasher.write(&(items.len() as u64).to_be_bytes());
            for item in items {
                canonical(hasher, item);
            }
        }
        Value::String(s) => {
            hasher.write(b"\"");
            text(hasher, s);
        }
        // Numbers as written (`1` and `1.0` differ).
        Value::Number(n) => {
            hasher.write(b"#");
            text(hasher, &n.to_string());
        }
        Value::Bool(b) => hasher.write(if *b { b"t" } else { b"f" }),
        Value::Null => hasher.write(b"n"),
    }
}

/// Sorts a short list in place (the configurations targeting one twin), stable; a small loop
/// where the standard sorts would add several kilobytes to the WebAssembly module per type.
fn insertion_sort<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn configuration(id: &str, content: Value) -> Value {
        json!({"id": id, "targetCondition": "*", "content": {"deviceContent": content}})
    }

    fn now(text: &str) -> Timestamp {
        text.parse().expect("a valid time")
    }

    #[test]
    fn equal_content_gives_an_equal_digest_whatever_the_member_order() {
        let a = Configuration::from_value(&configuration(
            "a",
            json!({"properties.desired.x": {"p": 1, "q": [1, "s"]}}),
        ));
        let b = Configuration::from_value(&configuration(
            "b",
            json!({"properties.desired.x": {"q": [1, "s"], "p": 1}}),
        ));
        let c = Configuration::from_value(&configuration(
            "c",
            json!({"properties.desired.x": {"p": 1.0, "q": [1, "s"]}}),
        ));
        let d = Configuration::from_value(&configuration(
            "d",
            json!({"properties.desired.x": {"p": 1, "q": ["s", 1]}}),
        ));
        let [a, b, c, d] = [a, b, c, d].map(|c| c.expect("valid").digest().to_owned());
        assert_eq!(a, b);
        assert_ne!(a, c, "1 and 1.0 are different content");
        assert_ne!(a, d, "array order is content");
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn an_integer_where_a_float_is_configured_is_rewritten() {
        let set = Configurations::from_value(&configuration("f", json!({"properties.desired.x": 1.0}))).expect("valid");
        let mut twin = Twin::new("d", now("2026-01-01T00:00:00Z"));
        twin.patch(
            Section::Desired,
            &json!({"x": 1}),
            &WriteOptions::new(now("2026-01-01T00:00:01Z")),
        )
        .expect("written");
        let applied = set
            .apply(&mut twin, now("2026-01-02T00:00:00Z"), &Limits::azure())
            .expect("applies");
        assert_eq!(applied.outcome.map(|o| o.section_version), Some(Some(3)));
        assert_eq!(twin.to_value()["properties"]["desired"]["x"].to_string(), "1.0");
    }

    /// Many applications, each stamping nodes for two configurations, so that the section's stamp
    /// table is collected between the two stamps a write adds: every node keeps the right one.
    #[test]
    fn configured_stamps_survive_the_collection_of_the_stamp_table() {
        let set = Configurations::from_value(&json!([
            {"id": "low", "targetCondition": "*", "priority": 1,
             "content": {"deviceContent": {"properties.desired": {"a": 1, "b": {"c": 2}}}}},
            {"id": "high", "targetCondition": "*", "priority": 2,
             "content": {"deviceContent": {"properties.desired.e": {"f": 1}}}}
        ]))
        .expect("valid");
        let mut twin = Twin::new("d", now("2026-01-01T00:00:00Z"));
        for round in 0..200 {
            // Values no configuration holds, so that each application rewrites them.
            let manual = json!({"a": round + 100, "b": {"c": round + 100}, "e": {"f": round + 100}, "m": round});
            let at = Timestamp::from_unix_millis(1_767_225_600_000 + round * 1000).expect("in range");
            twin.patch(Section::Desired, &manual, &WriteOptions::new(at))
                .expect("written");
            set.apply(&mut twin, at, &Limits::azure()).expect("applies");
            let metadata = twin.metadata_value(Section::Desired).expect("metadata");
            for (pointer, by) in [
                ("/a", "low"),
                ("/b", "low"),
                ("/b/c", "low"),
                ("/e", "high"),
                ("/e/f", "high"),
            ] {
                let node = metadata.pointer(pointer).expect("a node");
                assert_eq!(node[LAST_UPDATED_BY], json!(by), "round {round}, {pointer}");
            }
            assert!(metadata.pointer("/m/$lastUpdatedBy").is_none());
        }
        assert_eq!(
            twin.content_value(Section::Desired),
            json!({"a": 1, "b": {"c": 2}, "e": {"f": 1}})
        );
    }

    /// A configuration owning `properties.desired` marks the section root: the printed twin, a
    /// twin read back from it and a query all see the mark, and a later write drops it from both.
    #[test]
    fn a_marked_section_root_reads_back_as_printed() {
        let set =
            Configurations::from_value(&configuration("all", json!({"properties.desired": {"a": 1}}))).expect("valid");
        let digest = set.iter().next().expect("one").digest().to_owned();
        let mut twin = Twin::new("d", now("2026-01-01T00:00:00Z"));
        set.apply(&mut twin, now("2026-01-02T00:00:00Z"), &Limits::azure())
            .expect("applies");
        let printed = twin.to_value();
        let root = &printed["properties"]["desired"]["$metadata"];
        assert_eq!(
            (&root[LAST_UPDATED_BY], &root["$lastUpdatedByDigest"]),
            (&json!("all"), &json!(digest))
        );
        let mut read = Twin::from_value(printed.clone()).expect("reads");
        assert_eq!(read.to_value(), printed);
        let marked = Condition::parse("properties.desired.$metadata.$lastUpdatedBy = 'all'").expect("parses");
        for twin in [&mut twin, &mut read] {
            assert!(marked.matches(twin));
            twin.patch(
                Section::Desired,
                &json!({"x": 1}),
                &WriteOptions::new(now("2026-01-03T00:00:00Z")),
            )
            .expect("written");
            let metadata = twin.metadata_value(Section::Desired).expect("metadata");
            assert!(metadata.get(LAST_UPDATED_BY).is_none() && metadata.get("$lastUpdatedByDigest").is_none());
            assert_eq!(metadata["a"][LAST_UPDATED_BY], json!("all"));
            assert!(!marked.matches(twin));
            // The next application removes `x`, and marks the root again.
            set.apply(twin, now("2026-01-04T00:00:00Z"), &Limits::azure())
                .expect("applies");
            assert!(marked.matches(twin));
        }
        assert_eq!(read.to_value(), twin.to_value());
    }

    /// An application's change event shows the nodes it wrote as the twin holds them after the
    /// write, `$lastUpdatedBy` and `$lastUpdatedByDigest` included (S13).
    #[test]
    fn the_change_event_shows_the_marks_of_the_written_nodes() {
        let set = Configurations::from_value(&json!([
            {"id": "base", "targetCondition": "*", "priority": 1,
             "content": {"deviceContent": {"properties.desired": {"a": 1, "b": {"c": 2}}}}},
            {"id": "layer", "targetCondition": "*", "priority": 2,
             "content": {"deviceContent": {"properties.desired.b.d": {"e": 3}, "properties.desired.f": [1]}}}
        ]))
        .expect("valid");
        let mut twin = Twin::new("d", now("2026-01-01T00:00:00Z"));
        twin.patch(
            Section::Desired,
            &json!({"m": 1, "b": {"c": 2}}),
            &WriteOptions::new(now("2026-01-01T00:00:01Z")),
        )
        .expect("written");
        let applied = set
            .apply(&mut twin, now("2026-01-02T00:00:00Z"), &Limits::azure())
            .expect("applies");
        let event = applied.outcome.expect("written").event.to_value();
        let shown = &event["body"]["properties"]["desired"]["$metadata"];
        let mut metadata = twin.metadata_value(Section::Desired).expect("metadata");
        // `b.c` held its value already: not written, not in the event.
        metadata["b"].as_object_mut().expect("a node").shift_remove("c");
        assert_eq!(shown, &metadata);
        assert_eq!(shown["b"]["d"]["e"][LAST_UPDATED_BY], json!("layer"));
        assert_eq!(shown["b"][LAST_UPDATED_BY], json!("base"));
        assert_eq!(shown[LAST_UPDATED_BY], json!("base"));
    }

    #[test]
    fn deep_input_is_refused_without_a_crash() {
        let depth = 100_000;
        let text = format!(
            r#"{{"id": "x", "targetCondition": "*", "content": {{"deviceContent": {{"properties.desired.a": {}1{}}}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let error = Configurations::from_json(&text).expect_err("too deep");
        assert_eq!(error.code(), "InvalidJson");
        let deep = (0..MAX_NESTING + 10).fold(json!(1), |inner, _| json!({"k": inner}));
        let error = Configurations::from_value(&configuration("x", json!({"properties.desired.a": deep})))
            .expect_err("too deep");
        assert_eq!(error.code(), "InvalidConfiguration");
        assert!(
            error
                .path()
                .starts_with("/content/deviceContent/properties.desired.a/k"),
            "{error}"
        );
    }

    #[test]
    fn statuses_and_outcome_serialize_as_the_javascript_api_answers() {
        let set = Configurations::from_value(&json!([
            {"id": "b", "targetCondition": "*", "content": {"deviceContent": {"properties.desired.x": 1}}},
            {"id": "a", "targetCondition": "*", "priority": 1, "content": {"deviceContent": {"properties.desired.x": 2}}}
        ]))
        .expect("valid");
        let mut twin = Twin::new("d", now("2026-01-01T00:00:00Z"));
        let applied = set
            .apply(&mut twin, now("2026-01-02T00:00:00Z"), &Limits::azure())
            .expect("applies");
        let value = serde_json::to_value(&applied).expect("serializes");
        assert_eq!(value["statuses"], json!({"a": "applied", "b": "targeted"}));
        assert_eq!(value["outcome"]["notification"], json!({"x": 2, "$version": 2}));
    }
}
