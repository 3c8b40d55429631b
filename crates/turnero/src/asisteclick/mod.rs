//! AsisteClick's turnero protocol (seed 000), both directions.
//!
//! - turnero as *the external agenda* AsisteClick's bot consults: `integration` (per-tenant
//!   keys, token and calendar map), `availability` (vets AsisteClick's native slots against
//!   the real agenda) and `callback` (bookings created, moved and canceled in AsisteClick).
//! - turnero as *the bot platform* consulting someone else's agenda: `consult` (a calendar's
//!   availability endpoint, with fallback to turnero's own slots and a record of why), and
//!   `offer`, the one slot search the API and the bot offer from, which consults when the
//!   calendar has such an endpoint.
//!
//! The wire names are only known from a copy of the seed that lost its underscores and
//! capitals, so keys are read leniently (case, underscores, dashes and spaces ignored) and slot
//! objects are echoed back untouched.

pub mod availability;
pub mod callback;
pub mod conflicts;
pub mod consult;
pub mod integration;
pub mod offer;

use serde_json::{Map, Value};

/// The `system` of AsisteClick's booking references.
pub const SYSTEM: &str = "asisteclick";

/// `calendar_id`, `calendarId`, `CALENDAR-ID` and `calendar id` all read as `calendarid`.
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Reads an object's fields by normalized name.
pub struct Lenient<'a>(pub &'a Map<String, Value>);

impl<'a> Lenient<'a> {
    pub fn of(v: &'a Value) -> Option<Self> {
        v.as_object().map(Lenient)
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        let want = normalize_key(name);
        self.0
            .iter()
            .find(|(k, _)| normalize_key(k) == want)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// A string, or a number written as one (`"calendar_id": 5` and `"5"` are the same).
    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub fn object(&self, name: &str) -> Option<Lenient<'a>> {
        self.get(name).and_then(Lenient::of)
    }
}

/// AsisteClick's `timezone`: an hour offset (`"-3"`, `-3`, `"-03:00"`, `"+5:30"`), in seconds.
pub fn parse_offset(v: &Value) -> Option<i32> {
    let text = match v {
        Value::Number(n) => return n.as_f64().map(|h| (h * 3600.0).round() as i32),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest.starts_with(['-', '+']) {
        return None;
    }
    // In i64 and checked: a hostile `"99999999:00"` must not wrap into range.
    let secs: i64 = match rest.split_once(':') {
        Some((h, m)) => h
            .parse::<i64>()
            .ok()?
            .checked_mul(3600)?
            .checked_add(m.parse::<i64>().ok()?.checked_mul(60)?)?,
        None => {
            let hours = rest.parse::<f64>().ok()?;
            if !hours.is_finite() || hours.abs() > 18.0 {
                return None;
            }
            (hours * 3600.0).round() as i64
        }
    };
    if !(0..=18 * 3600).contains(&secs) {
        return None;
    }
    i32::try_from(sign * secs).ok()
}

/// An instant as AsisteClick writes it: RFC 3339 (`2025-01-15T12:00:00Z`), or a local time
/// without offset (`2025-01-15T09:00:00`) read at `offset` seconds from UTC.
pub fn parse_instant(text: &str, offset: Option<i32>) -> Option<i64> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let local: jiff::civil::DateTime = text.parse().ok()?;
    let offset = jiff::tz::Offset::from_seconds(offset?).ok()?;
    offset.to_timestamp(local).ok().map(|t| t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_match_whatever_their_case_and_separators() {
        let v = json!({"Calendar_ID": 5, "start date": "2025-01-15", "isoLocal": "x"});
        let l = Lenient::of(&v).unwrap();
        assert_eq!(l.text("calendar_id").as_deref(), Some("5"));
        assert_eq!(l.text("startDate").as_deref(), Some("2025-01-15"));
        assert_eq!(l.text("iso_local").as_deref(), Some("x"));
        assert!(l.get("end_date").is_none());
    }

    #[test]
    fn hour_offsets_are_read_in_every_usual_spelling() {
        assert_eq!(parse_offset(&json!("-3")), Some(-3 * 3600));
        assert_eq!(parse_offset(&json!(-3)), Some(-3 * 3600));
        assert_eq!(parse_offset(&json!("-03:00")), Some(-3 * 3600));
        assert_eq!(parse_offset(&json!("+5:30")), Some(5 * 3600 + 1800));
        assert_eq!(parse_offset(&json!("x")), None);
        assert_eq!(parse_offset(&json!("99")), None);
        assert_eq!(parse_offset(&json!("99999999:00")), None);
        assert_eq!(parse_offset(&json!("1193047:00")), None);
        assert_eq!(parse_offset(&json!("--1e10")), None);
        assert_eq!(parse_offset(&json!("-1e10")), None);
    }

    #[test]
    fn instants_are_read_with_their_offset_or_the_given_one() {
        let utc = parse_instant("2025-01-15T12:00:00Z", None).unwrap();
        assert_eq!(
            parse_instant("2025-01-15T09:00:00", Some(-3 * 3600)),
            Some(utc)
        );
        assert_eq!(parse_instant("2025-01-15T09:00:00-03:00", None), Some(utc));
        assert_eq!(parse_instant("2025-01-15T09:00:00", None), None);
        assert_eq!(parse_instant("mañana", Some(0)), None);
    }
}
