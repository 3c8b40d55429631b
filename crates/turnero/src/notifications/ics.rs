//! The `.ics` invitation attached to booking mails, built with the `icalendar` crate (it
//! escapes and folds lines as RFC 5545 wants), so the patient's calendar app adds, moves or
//! cancels the appointment (same UID, a higher SEQUENCE each time it is sent again).

use icalendar::{Calendar, Component, Event, EventLike};

fn utc(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

pub struct Invite<'a> {
    pub booking_id: &'a str,
    pub start: i64,
    pub end: i64,
    pub summary: &'a str,
    pub location: Option<&'a str>,
    pub description: &'a str,
    pub canceled: bool,
    /// Sent at; also the SEQUENCE, so a later invitation replaces an earlier one.
    pub now: i64,
}

pub fn invitation(i: &Invite<'_>) -> String {
    let mut event = Event::new();
    event
        .uid(&format!("{}@turnero", i.booking_id))
        .summary(i.summary)
        .description(i.description)
        .add_property("DTSTAMP", utc(i.now))
        .add_property("DTSTART", utc(i.start))
        .add_property("DTEND", utc(i.end))
        .add_property("SEQUENCE", (i.now / 60).to_string())
        .add_property("STATUS", if i.canceled { "CANCELLED" } else { "CONFIRMED" });
    if let Some(place) = i.location {
        event.location(place);
    }
    let mut cal = Calendar::new();
    cal.append_property(icalendar::Property::new(
        "METHOD",
        if i.canceled { "CANCEL" } else { "PUBLISH" },
    ));
    cal.push(event.done());
    cal.done().to_string()
}
