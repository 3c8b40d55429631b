//! Where "now" comes from. Production reads the system clock; tests set it, so policy,
//! hold expiry and slot windows are checked deterministically without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use jiff::Timestamp;

#[derive(Clone, Default)]
pub struct Clock {
    /// Unix seconds; `None` means the system clock.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stays at `at` until moved with [`Clock::set`].
    pub fn fixed(at: Timestamp) -> Self {
        Self {
            fixed: Some(Arc::new(AtomicI64::new(at.as_second()))),
        }
    }

    pub fn now(&self) -> Timestamp {
        match &self.fixed {
            Some(s) => Timestamp::from_second(s.load(Ordering::SeqCst)).unwrap_or_default(),
            None => Timestamp::now(),
        }
    }

    /// Unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.now().as_second()
    }

    /// Unix milliseconds (a fixed clock stays on its whole second).
    pub fn now_ms(&self) -> i64 {
        match &self.fixed {
            Some(s) => s.load(Ordering::SeqCst) * 1000,
            None => Timestamp::now().as_millisecond(),
        }
    }

    pub fn set(&self, at: Timestamp) {
        if let Some(s) = &self.fixed {
            s.store(at.as_second(), Ordering::SeqCst);
        }
    }
}
