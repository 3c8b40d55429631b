//! Typed, prefixed identifiers (`cal_…`, `bkg_…`) that sort by creation time.
//!
//! The suffix is a lowercase ULID: 48 bits of milliseconds then 80 random bits, so ids are
//! unguessable and `ORDER BY id` is creation order, which cursor paging relies on.

use std::fmt;

/// Why a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an id starting with `{prefix}_`")]
pub struct IdError {
    pub prefix: &'static str,
}

/// The next ULID of this process: strictly after every one made before it, even within the
/// same millisecond (plain `Ulid::new()` draws the low bits at random, so two ids of one
/// millisecond could sort backwards, and the event feed is ordered by id).
pub fn next_ulid() -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    // Overflow needs 2^80 ids in one millisecond; a fresh random one is the fallback.
    generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id whose suffix sorts after every id made earlier.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, next_ulid().to_string().to_lowercase()))
            }

            /// Accepts only this kind's prefix followed by a 26-character ULID.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let ok = raw
                    .strip_prefix(concat!($prefix, "_"))
                    .is_some_and(|rest| rest.len() == 26 && ulid::Ulid::from_string(rest).is_ok());
                if ok {
                    Ok(Self(raw.to_ascii_lowercase()))
                } else {
                    Err(IdError { prefix: $prefix })
                }
            }

            /// Wraps a value read back from storage, which was validated when written.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

define_id!(/// A business using turnero.
    TenantId, "ten");
define_id!(/// A professional, room or resource with its own agenda.
    CalendarId, "cal");
define_id!(/// Something that can be booked, with a duration.
    ServiceId, "svc");
define_id!(/// A booking; a hold is a booking in the `held` state.
    BookingId, "bkg");
define_id!(/// A person who books.
    CustomerId, "cus");
define_id!(/// An outbox event.
    EventId, "evt");
define_id!(/// An API key record (the key itself is never stored).
    ApiKeyId, "key");
define_id!(/// A member of a clinic's staff who signs in to the console.
    StaffUserId, "usr");
define_id!(/// A period a calendar is unavailable.
    TimeOffId, "off");
define_id!(/// A webhook endpoint (subscription).
    WebhookId, "whk");
define_id!(/// One HTTP attempt to deliver an event to a webhook endpoint.
    AttemptId, "wat");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_parse_back() {
        let id = BookingId::generate();
        assert!(id.as_str().starts_with("bkg_"));
        assert_eq!(BookingId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn an_id_of_another_kind_is_rejected() {
        let id = CalendarId::generate();
        assert_eq!(
            BookingId::parse(id.as_str()),
            Err(IdError { prefix: "bkg" })
        );
        assert!(BookingId::parse("bkg_short").is_err());
    }

    #[test]
    fn ids_made_in_the_same_millisecond_still_sort_in_order() {
        let ids: Vec<String> = (0..1000)
            .map(|_| BookingId::generate().into_string())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = EventId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = EventId::generate();
        assert!(a < b);
    }
}
