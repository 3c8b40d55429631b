//! How instants read in a conversation: "lun 12/01" over "09:00", in the flow's language and
//! the calendar's local time.

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

fn weekday(language: &str, day: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    let i = match day {
        Monday => 0,
        Tuesday => 1,
        Wednesday => 2,
        Thursday => 3,
        Friday => 4,
        Saturday => 5,
        Sunday => 6,
    };
    let names: [&str; 7] = match language {
        "pt" => ["seg", "ter", "qua", "qui", "sex", "sáb", "dom"],
        "en" => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        _ => ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
    };
    names[i]
}

fn local(start: i64, offset_seconds: i32) -> jiff::civil::DateTime {
    let offset = Offset::from_seconds(offset_seconds).unwrap_or(Offset::UTC);
    Timestamp::from_second(start)
        .unwrap_or_default()
        .to_zoned(TimeZone::fixed(offset))
        .datetime()
}

/// The day a slot falls on: `lun 12/01` (`Mon 01/12` in English).
pub fn day(language: &str, start: i64, offset_seconds: i32) -> String {
    let dt = local(start, offset_seconds);
    let name = weekday(language, dt.weekday());
    if language == "en" {
        format!("{name} {:02}/{:02}", dt.month(), dt.day())
    } else {
        format!("{name} {:02}/{:02}", dt.day(), dt.month())
    }
}

/// The local time of a slot: `09:00`.
pub fn time(start: i64, offset_seconds: i32) -> String {
    let dt = local(start, offset_seconds);
    format!("{:02}:{:02}", dt.hour(), dt.minute())
}

/// Day and time together: `lun 12/01 09:00`.
pub fn when(language: &str, start: i64, offset_seconds: i32) -> String {
    format!(
        "{} {}",
        day(language, start, offset_seconds),
        time(start, offset_seconds)
    )
}
