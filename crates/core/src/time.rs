//! Wall-clock pieces of a schedule: weekdays and "HH:MM" times of day.

use std::fmt;

/// Why a weekday or time of day could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("expected a weekday: mon, tue, wed, thu, fri, sat or sun")]
    Weekday,
    #[error("expected a time of day as HH:MM between 00:00 and 24:00")]
    TimeOfDay,
    #[error("the range must end after it starts")]
    EmptyRange,
    #[error("unknown IANA time zone")]
    TimeZone,
}

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Monday = 0 … Sunday = 6, as jiff's `to_monday_zero_offset`.
pub fn parse_weekday(raw: &str) -> Result<usize, TimeError> {
    let lower = raw.trim().to_ascii_lowercase();
    let short = lower.get(..3).unwrap_or(&lower);
    WEEKDAYS
        .iter()
        .position(|w| *w == short)
        .ok_or(TimeError::Weekday)
}

/// Minutes after local midnight, 0..=1440 (1440 is "24:00", the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(1440);

    pub fn parse(raw: &str) -> Result<Self, TimeError> {
        let (h, m) = raw.trim().split_once(':').ok_or(TimeError::TimeOfDay)?;
        let valid = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !valid(h) || m.len() != 2 || !valid(m) {
            return Err(TimeError::TimeOfDay);
        }
        let (h, m): (u16, u16) = (h.parse().unwrap_or(99), m.parse().unwrap_or(99));
        match (h, m) {
            (24, 0) => Ok(Self::END_OF_DAY),
            (0..=23, 0..=59) => Ok(Self(h * 60 + m)),
            _ => Err(TimeError::TimeOfDay),
        }
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Opening hours inside one local day: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayRange {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl DayRange {
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<Self, TimeError> {
        if end <= start {
            return Err(TimeError::EmptyRange);
        }
        Ok(Self { start, end })
    }
}

/// Looks up an IANA zone in the bundled or system database.
pub fn parse_time_zone(raw: &str) -> Result<jiff::tz::TimeZone, TimeError> {
    if raw.is_empty() || raw.len() > 64 {
        return Err(TimeError::TimeZone);
    }
    jiff::tz::TimeZone::get(raw).map_err(|_| TimeError::TimeZone)
}

/// An instant as RFC 3339 UTC, e.g. `2030-03-04T12:00:00Z`: the one spelling of an instant
/// on every wire (API, events, webhooks, vendor formats).
pub fn fmt_utc(t: jiff::Timestamp) -> String {
    format_with_offset(t, 0, true)
}

/// An instant given in Unix seconds as [`fmt_utc`] writes it.
pub fn fmt_ts(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(fmt_utc)
        .unwrap_or_default()
}

/// An instant given in Unix milliseconds, to the second (floored, also before 1970), as
/// [`fmt_ts`] writes it.
pub fn fmt_ts_ms(ms: i64) -> String {
    fmt_ts(ms.div_euclid(1000))
}

/// An instant given in Unix seconds in a zone's local time with its offset.
pub fn fmt_local(secs: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| format_local(t, tz))
        .unwrap_or_default()
}

/// ISO 8601 local time with the zone's offset at that instant, e.g. `2030-03-04T09:00:00-03:00`.
pub fn format_local(ts: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    format_with_offset(ts, tz.to_offset(ts).seconds(), false)
}

/// RFC 3339 with a fixed offset in seconds; `utc_z` writes a zero offset as `Z`.
pub fn format_with_offset(ts: jiff::Timestamp, offset_seconds: i32, utc_z: bool) -> String {
    let mut out = String::with_capacity(25);
    let _ = write_rfc3339(&mut out, ts, offset_seconds, utc_z);
    out
}

/// Writes RFC 3339 with a fixed offset, e.g. `2030-03-04T09:00:00-03:00`.
pub fn write_rfc3339(
    out: &mut impl std::fmt::Write,
    ts: jiff::Timestamp,
    offset_seconds: i32,
    utc_z: bool,
) -> std::fmt::Result {
    let (bytes, len) = rfc3339_bytes(ts, offset_seconds, utc_z);
    // Only ASCII digits and punctuation are written.
    out.write_str(std::str::from_utf8(&bytes[..len]).map_err(|_| std::fmt::Error)?)
}

/// RFC 3339 as ASCII bytes and their length (20 with `Z`, 25 with an offset).
///
/// Digits are placed by hand because slot lists format thousands of instants per second and
/// `core::fmt` padding dominated the profile of the slots endpoint.
pub fn rfc3339_bytes(ts: jiff::Timestamp, offset_seconds: i32, utc_z: bool) -> ([u8; 25], usize) {
    let offset = jiff::tz::Offset::from_seconds(offset_seconds).unwrap_or(jiff::tz::Offset::UTC);
    let dt = offset.to_datetime(ts);
    let mut b = *b"0000-00-00T00:00:00+00:00";
    let year = dt.year().clamp(0, 9999) as u16;
    b[0] = b'0' + (year / 1000) as u8;
    b[1] = b'0' + (year / 100 % 10) as u8;
    b[2] = b'0' + (year / 10 % 10) as u8;
    b[3] = b'0' + (year % 10) as u8;
    let two = |b: &mut [u8; 25], at: usize, v: u8| {
        b[at] = b'0' + v / 10;
        b[at + 1] = b'0' + v % 10;
    };
    two(&mut b, 5, dt.month() as u8);
    two(&mut b, 8, dt.day() as u8);
    two(&mut b, 11, dt.hour() as u8);
    two(&mut b, 14, dt.minute() as u8);
    two(&mut b, 17, dt.second() as u8);
    if offset_seconds == 0 && utc_z {
        b[19] = b'Z';
        return (b, 20);
    }
    let abs = offset_seconds.unsigned_abs();
    b[19] = if offset_seconds < 0 { b'-' } else { b'+' };
    two(&mut b, 20, (abs / 3600).min(99) as u8);
    two(&mut b, 23, (abs % 3600 / 60) as u8);
    (b, 25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_are_read_in_short_or_long_form() {
        assert_eq!(parse_weekday("mon"), Ok(0));
        assert_eq!(parse_weekday("Sunday"), Ok(6));
        assert_eq!(parse_weekday("lunes"), Err(TimeError::Weekday));
    }

    #[test]
    fn times_of_day_accept_midnight_and_the_end_of_the_day_only() {
        assert_eq!(TimeOfDay::parse("09:30").unwrap().minutes(), 570);
        assert_eq!(TimeOfDay::parse("24:00"), Ok(TimeOfDay::END_OF_DAY));
        for bad in ["24:01", "9", "09:60", "aa:bb", "-1:00", "09:5", ""] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_range_must_end_after_it_starts() {
        let t = |s| TimeOfDay::parse(s).unwrap();
        assert!(DayRange::new(t("09:00"), t("09:00")).is_err());
        assert!(DayRange::new(t("09:00"), t("13:00")).is_ok());
    }

    #[test]
    fn instants_format_with_their_offset_or_z() {
        let ts: jiff::Timestamp = "2030-03-04T12:00:00Z".parse().unwrap();
        assert_eq!(format_with_offset(ts, 0, true), "2030-03-04T12:00:00Z");
        assert_eq!(
            format_with_offset(ts, -3 * 3600, false),
            "2030-03-04T09:00:00-03:00"
        );
        assert_eq!(
            format_with_offset(ts, 5 * 3600 + 1800, false),
            "2030-03-04T17:30:00+05:30"
        );
        let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
        assert_eq!(format_local(ts, &kolkata), "2030-03-04T17:30:00+05:30");
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(parse_time_zone("America/Sao_Paulo").is_ok());
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }
}
