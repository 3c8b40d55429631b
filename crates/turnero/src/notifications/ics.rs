//! The `.ics` invitation attached to booking mails, built with the `icalendar` crate (it
//! escapes and folds lines as RFC 5545 wants), so the patient's calendar app adds, moves or
//! cancels the appointment (same UID, a higher SEQUENCE each time it is sent again). The
//! staff console's calendar feed is a calendar of the same events.

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
    /// Sent at (or, in a feed, last changed at); also the SEQUENCE, so a later invitation
    /// replaces an earlier one.
    pub now: i64,
}

/// One appointment as a calendar event.
pub fn event(i: &Invite<'_>) -> Event {
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
    event.done()
}

pub fn invitation(i: &Invite<'_>) -> String {
    let mut cal = Calendar::new();
    cal.append_property(icalendar::Property::new(
        "METHOD",
        if i.canceled { "CANCEL" } else { "PUBLISH" },
    ));
    cal.push(event(i));
    cal.done().to_string()
}

/// A calendar to subscribe to, named `name`: the events as they are now (a canceled one
/// stays, marked CANCELLED, so subscribed apps take it off).
pub fn feed(name: &str, events: impl IntoIterator<Item = Event>) -> String {
    let mut cal = Calendar::new();
    cal.name(name);
    for e in events {
        cal.push(e);
    }
    cal.done().to_string()
}
