//! What this process knows of one endpoint while it sends to it: how many sends are in
//! flight, how many claimed rows it holds, how fast the endpoint answers, and whether its
//! own failures have paused it ahead of the stored breaker.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::Settings;

/// Per endpoint, in this process: sends in flight are bounded by `sending`; `outstanding`
/// counts claimed rows not yet recorded, which bounds what the next claim may take.
///
/// `failures` and `paused` stop this process's sends the moment its own failures reach the
/// breaker's threshold, before the batched recorder has written them and opened the stored
/// breaker (which is what every process obeys).
pub(super) struct Slot {
    pub sending: Arc<Semaphore>,
    pub outstanding: AtomicUsize,
    pub failures: Mutex<VecDeque<i64>>,
    pub paused: Mutex<Option<std::time::Instant>>,
    /// Moving average of this endpoint's response times; starts at the timeout, so an
    /// endpoint is claimed for deeply only once it has shown itself fast.
    pub avg_ms: AtomicU64,
}

/// Endpoints answering faster than this on average get deliveries claimed deep ahead.
const FAST_MS: u64 = 50;

impl Slot {
    /// How many of its deliveries this process holds ahead of sending: deep for a fast
    /// endpoint (claims come in big chunks, the pipeline never runs dry), shallow for a slow
    /// or failing one (it cannot hog the process's in-flight room, nor hold rows long).
    pub(super) fn depth(&self, concurrency: usize) -> usize {
        if self.avg_ms.load(Ordering::Relaxed) <= FAST_MS {
            64 * concurrency
        } else {
            2 * concurrency
        }
    }

    pub(super) fn took(&self, ms: i64) {
        let ms = ms.max(0) as u64;
        let old = self.avg_ms.load(Ordering::Relaxed);
        self.avg_ms.store((old * 15 + ms) / 16, Ordering::Relaxed);
    }

    /// Stops this process's sends to the endpoint now (its queued jobs are released).
    pub(super) fn pause(&self) {
        *self.paused.lock().expect("paused lock") = Some(std::time::Instant::now());
    }

    pub(super) fn is_paused(&self) -> bool {
        self.paused.lock().map(|p| p.is_some()).unwrap_or(false)
    }

    /// Counts a failure; answers whether this process should pause the endpoint.
    pub(super) fn failed(&self, at: i64, s: &Settings) -> bool {
        let mut f = self.failures.lock().expect("failures lock");
        f.push_back(at);
        while f.front().is_some_and(|t| *t < at - s.breaker_window_ms) {
            f.pop_front();
        }
        if f.len() >= s.breaker_failures as usize {
            *self.paused.lock().expect("paused lock") = Some(std::time::Instant::now());
            return true;
        }
        false
    }

    pub(super) fn resume(&self) {
        self.failures.lock().expect("failures lock").clear();
        *self.paused.lock().expect("paused lock") = None;
    }
}
