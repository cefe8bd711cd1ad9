//! `configure`: arbitrary text as automatic configurations (S12), applied to arbitrary twins.
//! Nothing panics; text is either read or refused as `InvalidJson` or `InvalidConfiguration`
//! (400); a twin whose write fails is unchanged; the result does not depend on the order the
//! configurations are given in; and, when no condition reads what an application writes, a
//! second application writes nothing.
//!
//! Input: segments split on 0xFF (a byte UTF-8 never holds): the configurations text, then up to
//! 8 twin texts (segments that are not twins are skipped).

use serde_json::Value;
use twindoc::{Configurations, Limits, Timestamp, Twin};

const SEPARATOR: u8 = 0xFF;
const MAX_TWINS: usize = 8;

pub fn run(data: &[u8]) {
    let mut segments = data.split(|&b| b == SEPARATOR);
    let Some(text) = segments.next().map(String::from_utf8_lossy) else {
        return;
    };
    let twins: Vec<Twin> = segments
        .take(MAX_TWINS)
        .filter_map(|segment| std::str::from_utf8(segment).ok())
        .filter_map(|text| Twin::from_json(text).ok())
        .collect();
    let configurations = match Configurations::from_json(&text) {
        Ok(configurations) => configurations,
        Err(error) => {
            assert!(
                matches!(error.code(), "InvalidJson" | "InvalidConfiguration"),
                "{error}"
            );
            assert_eq!(error.status(), 400);
            return;
        }
    };
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().expect("a valid time");
    let mut applied = twins.clone();
    let fleet = configurations.apply_all(&mut applied, now, &Limits::azure());
    for failure in &fleet.failures {
        assert_eq!(
            applied[failure.index].to_json(),
            twins[failure.index].to_json(),
            "a failed twin changed"
        );
    }
    assert_eq!(fleet.metrics.len(), configurations.len());

    // The same configurations in reverse order give the same twins.
    let Ok(list) = serde_json::from_str::<Value>(&text).map(|v| match v {
        Value::Array(items) => items,
        one => vec![one],
    }) else {
        return;
    };
    // A condition that reads what an application writes (desired properties, statuses, the
    // version or etag, or whether `properties` exists) may target other twins the next time.
    let reads_written = list.iter().any(|c| {
        let condition = c["targetCondition"].as_str().unwrap_or_default();
        ["desired", "configurations", "version", "etag"]
            .iter()
            .any(|name| condition.contains(name))
            || condition.replace("properties.reported", "").contains("properties")
    });
    let reversed = Configurations::from_value(&Value::Array(list.into_iter().rev().collect()))
        .expect("the same configurations in another order are valid");
    let mut other = twins.clone();
    reversed.apply_all(&mut other, now, &Limits::azure());
    let texts = |twins: &[Twin]| twins.iter().map(Twin::to_json).collect::<Vec<_>>();
    assert_eq!(
        texts(&applied),
        texts(&other),
        "the order of the configurations matters"
    );
    if reads_written {
        return;
    }
    let later: Timestamp = "2026-12-02T00:00:00Z".parse().expect("a valid time");
    let failed: Vec<usize> = fleet.failures.iter().map(|f| f.index).collect();
    for (index, twin) in applied.iter_mut().enumerate() {
        let before = twin.to_json();
        let again = configurations.apply(twin, later, &Limits::azure());
        if failed.contains(&index) {
            continue;
        }
        let again = again.expect("a twin applied once applies again");
        assert!(
            again.outcome.is_none(),
            "a second application wrote {:?}",
            again.outcome
        );
        assert_eq!(twin.to_json(), before, "a second application changed the twin");
    }
}
