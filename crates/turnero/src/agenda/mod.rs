//! The agenda: tenants, calendars, services, customers, holds and bookings.
//!
//! Each module owns its tables' SQL and the rules that need the database (locking,
//! capacity checks, history, outbox). Pure rules come from `turnero-core`. Every query is
//! scoped by tenant; a row of another tenant is indistinguishable from a missing one.

pub mod api_keys;
pub mod bookings;
pub mod calendars;
pub mod customer_search;
pub mod customers;
pub mod erasure;
pub mod events;
pub mod idempotency;
pub mod plans;
pub mod retire;
pub mod services;
pub mod slots;
pub mod snapshot;
pub mod staff;
pub mod staff_admin;
pub mod staff_feeds;
pub mod tenants;

/// A `LIKE … ESCAPE '\'` pattern for JSON text that holds `id` as a string (erasure finds
/// what names a person, retiring what names a calendar). Ids are ASCII letters, digits and
/// `_`: only `_` needs escaping.
pub(crate) fn json_names(id: &str) -> String {
    format!("%\"{}\"%", id.replace('_', "\\_"))
}

/// A stored instant (Unix seconds, always written by this code within jiff's range).
pub(crate) fn instant(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}
