//! The booking status machine.
//!
//! `held → pending → confirmed → completed | no_show`; `canceled` from any open state;
//! a hold that runs out becomes `expired`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Held,
    Pending,
    Confirmed,
    Completed,
    NoShow,
    Canceled,
    Expired,
}

/// Written as its stored name (`no_show`…), as the API and events show it.
impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

pub const ALL_STATUSES: [Status; 7] = [
    Status::Held,
    Status::Pending,
    Status::Confirmed,
    Status::Completed,
    Status::NoShow,
    Status::Canceled,
    Status::Expired,
];

/// A change someone asks for; whether it is allowed depends on the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A hold becomes a booking.
    Book,
    Confirm,
    Complete,
    MarkNoShow,
    Cancel,
    Reschedule,
    Expire,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} booking cannot be {action}")]
pub struct TransitionError {
    pub from: Status,
    pub action: &'static str,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Completed => "completed",
            Status::NoShow => "no_show",
            Status::Canceled => "canceled",
            Status::Expired => "expired",
        }
    }

    /// Whether a booking in this status takes up room in the calendar.
    /// (A hold only while it has not run out; storage checks its expiry.)
    pub fn occupies(self) -> bool {
        matches!(self, Status::Held | Status::Pending | Status::Confirmed)
    }

    /// The status after `action`, or why it is not allowed.
    pub fn apply(self, action: Action) -> Result<Status, TransitionError> {
        use Action::*;
        use Status::*;
        let next = match (self, action) {
            (Held, Book) => Some(Pending),
            (Pending, Confirm) => Some(Confirmed),
            (Confirmed, Complete) => Some(Completed),
            (Confirmed, MarkNoShow) => Some(NoShow),
            (Held | Pending | Confirmed, Cancel) => Some(Canceled),
            (Held | Pending | Confirmed, Reschedule) => Some(self),
            (Held, Expire) => Some(Expired),
            _ => None,
        };
        next.ok_or(TransitionError {
            from: self,
            action: action.past_tense(),
        })
    }
}

impl Action {
    fn past_tense(self) -> &'static str {
        match self {
            Action::Book => "booked",
            Action::Confirm => "confirmed",
            Action::Complete => "completed",
            Action::MarkNoShow => "marked as no-show",
            Action::Cancel => "canceled",
            Action::Reschedule => "rescheduled",
            Action::Expire => "expired",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ALL_STATUSES
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::Status::*;
    use super::*;

    #[test]
    fn a_booking_walks_from_held_to_completed() {
        let s = Held.apply(Book).unwrap().apply(Confirm).unwrap();
        assert_eq!(s.apply(Complete), Ok(Completed));
        assert_eq!(s.apply(MarkNoShow), Ok(NoShow));
    }

    #[test]
    fn every_open_state_can_be_canceled_and_no_closed_one_can() {
        for s in ALL_STATUSES {
            assert_eq!(s.apply(Cancel).is_ok(), s.occupies(), "{s}");
        }
    }

    #[test]
    fn closed_bookings_refuse_every_change() {
        for s in [Completed, NoShow, Canceled, Expired] {
            for a in [
                Book, Confirm, Complete, MarkNoShow, Cancel, Reschedule, Expire,
            ] {
                assert!(s.apply(a).is_err(), "{s} {a:?}");
            }
        }
    }

    #[test]
    fn a_pending_booking_cannot_be_completed_before_it_is_confirmed() {
        assert_eq!(
            Pending.apply(Complete).unwrap_err().to_string(),
            "a pending booking cannot be completed"
        );
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for s in ALL_STATUSES {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
    }
}
