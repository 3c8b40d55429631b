//! The answers' wire shapes (`XxxOut`): built `From` the agenda's domain values, so instants
//! become RFC 3339 text and statuses their names here and nowhere else. Events carry the same
//! shapes (the domain values' published form); a test beside each pair holds the two together.

mod booking;
mod calendar;
mod conversation;
mod page;
mod records;

pub use booking::BookingOut;
pub use calendar::{CalendarOut, OverrideOut, TimeOffOut};
pub use conversation::{ConversationOut, TranscriptLineOut};
pub use page::Page;
pub use records::{CustomerOut, EventOut, ExternalRefOut, HistoryOut, ServiceOut};

use turnero_core::time::fmt_utc as utc;

/// Each value of a list in its answer shape.
pub fn all<T, O: From<T>>(values: Vec<T>) -> Vec<O> {
    values.into_iter().map(O::from).collect()
}
