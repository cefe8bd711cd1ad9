//! `query`: arbitrary text as an S11 query and as a condition alone, run over arbitrary twins.
//! Nothing panics; text is either parsed or refused as `InvalidQuery` naming an offset within
//! it; a run gives the same rows however the twins are fed, never more than `TOP`; a query
//! selects only twins its condition selects.
//!
//! Input: segments split on 0xFF (a byte UTF-8 never holds): the query text, then up to 8 twin
//! texts (segments that are not twins are skipped).

use twindoc::{Condition, Error, Query, Twin};

const SEPARATOR: u8 = 0xFF;
const MAX_TWINS: usize = 8;

pub fn run(data: &[u8]) {
    let mut segments = data.split(|&b| b == SEPARATOR);
    let Some(text) = segments.next().map(String::from_utf8_lossy) else {
        return;
    };
    let texts: Vec<&str> = segments
        .take(MAX_TWINS)
        .filter_map(|segment| std::str::from_utf8(segment).ok())
        .collect();
    let twins: Vec<Twin> = texts.iter().filter_map(|text| Twin::from_json(text).ok()).collect();
    let query = Query::parse(&text).map_err(|e| check_error(&e, &text)).ok();
    let condition = Condition::parse(&text).map_err(|e| check_error(&e, &text)).ok();
    if let Some(query) = &query {
        check_query(query, &twins);
        check_texts(query, &texts);
    }
    if let Some(condition) = &condition {
        let matched: Vec<bool> = twins.iter().map(|t| condition.matches(t)).collect();
        // The same condition as a query's WHERE selects the same device twins.
        let prefixed = Query::parse(&format!("SELECT * FROM devices WHERE {text}"));
        if let (Ok(prefixed), false) = (prefixed, condition.is_every_twin()) {
            for (twin, matched) in twins.iter().zip(&matched) {
                assert_eq!(prefixed.condition().matches(twin), *matched, "{text:?}");
            }
        }
    }
}

/// A refusal is `InvalidQuery`, 400 / 400004, without a path, naming an offset within the text.
fn check_error(error: &Error, text: &str) {
    assert_eq!(error.code(), "InvalidQuery", "{error}");
    assert_eq!((error.status(), error.error_code(), error.path()), (400, 400004, ""));
    let (_, offset) = error
        .message()
        .rsplit_once(" at character offset ")
        .unwrap_or_else(|| panic!("no offset in {error}"));
    let offset: usize = offset.parse().unwrap_or_else(|_| panic!("a bad offset in {error}"));
    assert!(
        offset <= text.chars().count().min(8192),
        "{error} for {} characters",
        text.chars().count()
    );
}

fn check_query(query: &Query, twins: &[Twin]) {
    let rows = query.run(twins);
    assert_eq!(query.run(twins.iter()), rows, "a second run differs");
    // Pushed one at a time, the twins give the same rows.
    let mut run = query.start();
    let mut pushed = Vec::new();
    for twin in twins {
        if run.is_done() {
            break;
        }
        pushed.extend(run.push(twin));
    }
    pushed.extend(run.finish());
    assert_eq!(pushed, rows);
    let selected = twins.iter().filter(|t| query.matches(t)).count();
    for twin in twins {
        if query.matches(twin) {
            assert!(query.condition().matches(twin));
        }
    }
    for row in &rows {
        assert!(row.is_object(), "a row is an object: {row}");
    }
    // Without aggregation there is a row per selected twin (up to TOP); with it, at most one
    // group per selected twin, or the one row of aggregates over all.
    assert!(
        rows.len() <= selected.max(1),
        "{} rows from {selected} selected twins",
        rows.len()
    );
}

/// Twins pushed as text, which are read whole only when selected, give the rows of the same
/// twins read whole first; a text that is no twin at all is either refused as a whole read
/// refuses it or, when the query leaves it out, skipped.
fn check_texts(query: &Query, texts: &[&str]) {
    let mut by_text = query.start();
    let mut whole = query.start();
    for text in texts {
        if by_text.is_done() {
            assert!(whole.is_done());
            break;
        }
        match (by_text.push_json(text), Twin::from_json(text)) {
            (Ok(row), Ok(twin)) => assert_eq!(row, whole.push(&twin), "{text}"),
            (Ok(row), Err(_)) => assert_eq!(row, None, "a twin that does not read gave a row: {text}"),
            (Err(error), Ok(_)) => panic!("{text} reads as a twin, but not as text: {error}"),
            (Err(by_text), Err(whole)) => {
                assert_eq!(by_text.code(), whole.code(), "{text}");
            }
        }
    }
    assert_eq!(by_text.finish(), whole.finish());
}
