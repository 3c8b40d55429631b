//! turnero-core: the pure domain of turnero. No IO, no async, no database.
//!
//! Everything here is deterministic: callers pass in "now", the rules and the busy
//! intervals, and get answers back. The service crate owns storage and HTTP.

pub mod availability;
pub mod booking;
pub mod capacity;
pub mod chat;
pub mod event;
pub mod flow;
pub mod ids;
pub mod notice;
pub mod phone;
pub mod said;
pub mod schedule;
pub mod time;
pub mod wish;

pub use availability::{compute_slots, page, Slot, SlotPage, SlotQuery};
pub use capacity::{max_concurrency, Interval};
