//! Reminders and confirmation campaigns: the rules a clinic sets, the plan they make (rows
//! written with each booking change, by `agenda::plans`), "send now" runs, quiet hours, the
//! patients' answers and the reports. Sending is the chat's (`chat::notices`), through each
//! channel's outbox: this layer knows no channel.

pub mod answers;
pub mod ics;
pub mod links;
pub mod plans;
pub mod reports;
pub mod rules;
pub mod runs;
pub mod settings;
pub mod words;
