//! Work that runs later: expiring holds here, deleting old records in [`retention`]. Each job has a "run once" function that
//! tests call directly, and a loop that the server runs. Truth lives in the database, so
//! a restarted or second process simply carries on.

pub mod retention;

use std::time::Duration;

use tracing::Instrument;

use crate::clock::Clock;
use crate::db::Db;

/// Runs [`crate::agenda::bookings::expire_holds`] every `every` until the process ends.
pub fn spawn_hold_sweeper(db: Db, clock: Clock, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let sweep = crate::agenda::bookings::expire_holds(&db, clock.now_secs())
                .instrument(tracing::info_span!("hold_sweep"));
            match sweep.await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "holds expired"),
                Err(e) => tracing::warn!(error = ?e, "hold sweep failed"),
            }
        }
    })
}
