//! A claimed delivery on its way through this process: claimed by the hub, sent, then
//! handed to the recorder with its outcome. Shared by `hub` (which claims and sends) and
//! `record` (which writes results), so neither needs the other.

use std::sync::Arc;

use super::formats::EventRecord;
use super::send::Sent;
use super::store::Endpoint;

/// A claimed delivery, ready to send.
pub struct Job {
    pub event: EventRecord,
    pub endpoint: Arc<Endpoint>,
    pub claim: String,
    pub attempts_before: i64,
    pub probe: bool,
}

pub enum Outcome {
    Sent(Sent),
    /// The endpoint's format has nothing for this event type.
    Skipped,
    /// Not sent: the endpoint paused meanwhile. Back to the queue, no attempt used.
    Released,
}

/// The result of a job, on its way to being recorded.
pub struct Done {
    pub job: Job,
    pub outcome: Outcome,
    pub at_ms: i64,
}
