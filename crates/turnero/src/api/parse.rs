//! Small parsers shared by the DTO conversions: instants, ids, names, limits.

use jiff::Timestamp;
use turnero_core::ids::IdError;

use crate::error::{Error, Result};

/// An RFC 3339 instant with an explicit offset (`Z` or `-03:00`); Unix seconds.
pub fn instant(raw: &str, field: &str) -> Result<i64> {
    let ts: Timestamp = raw.trim().parse().map_err(|_| {
        Error::invalid(
            "invalid_instant",
            field,
            format!("`{raw}` is not an RFC 3339 instant with an offset, like 2030-03-04T12:00:00Z"),
        )
    })?;
    if ts.subsec_nanosecond() != 0 {
        return Err(Error::invalid(
            "invalid_instant",
            field,
            "instants have whole seconds",
        ));
    }
    Ok(ts.as_second())
}

/// An id in a URL path: a malformed one is simply not found.
pub fn path_id<T>(raw: &str, what: &str, parse: impl Fn(&str) -> Result<T, IdError>) -> Result<T> {
    parse(raw).map_err(|_| Error::not_found(what))
}

/// An id in a body: a malformed one is a 422 on that field.
pub fn body_id<T>(raw: &str, field: &str, parse: impl Fn(&str) -> Result<T, IdError>) -> Result<T> {
    parse(raw).map_err(|e| Error::invalid("invalid_id", field, e))
}

/// A trimmed, non-empty text of at most `max` characters.
pub fn text(raw: &str, field: &str, max: usize) -> Result<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::invalid("required", field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(Error::invalid(
            "too_long",
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// An optional text: blank means absent.
/// A name (of a calendar, a service, a clinic, a chat page): [`text`], and no control
/// characters (a newline or an escape code in a name breaks every screen that shows it).
pub fn name(raw: &str, field: &str, max: usize) -> Result<String> {
    let t = text(raw, field, max)?;
    if t.chars().any(char::is_control) {
        return Err(Error::invalid(
            "invalid_field",
            field,
            "no control characters (newlines, tabs, escapes)",
        ));
    }
    Ok(t)
}

pub fn opt_text(raw: Option<&str>, field: &str, max: usize) -> Result<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text(t, field, max).map(Some),
    }
}

/// A whole number within `range`.
pub fn within(value: i64, range: std::ops::RangeInclusive<i64>, field: &str) -> Result<u32> {
    if !range.contains(&value) {
        return Err(Error::invalid(
            "out_of_range",
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        ));
    }
    Ok(value as u32)
}

/// A JSON object of custom fields: bounded in size so one record cannot grow without limit.
pub fn custom_fields(
    value: Option<serde_json::Map<String, serde_json::Value>>,
    field: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let map = value.unwrap_or_default();
    if map.len() > 100 || serde_json::to_string(&map).map_or(0, |s| s.len()) > 16 * 1024 {
        return Err(Error::invalid(
            "too_long",
            field,
            "at most 100 keys and 16 KiB",
        ));
    }
    Ok(map)
}

/// The base URL of a vendor's API (`graph_api_url`, `api_url`): the default when not given,
/// without a trailing slash, and one the outbound guard lets through (checked again at every
/// call: the allow-list may change).
pub fn vendor_url(
    outbound: &crate::outbound::Outbound,
    raw: Option<&str>,
    default: &str,
    field: &str,
) -> Result<String> {
    let url = raw
        .map(str::trim)
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string();
    outbound.check_url(&url).map_err(|e| {
        Error::invalid("url_refused", field, format!("`{url}` cannot be used: {e}"))
    })?;
    Ok(url)
}
