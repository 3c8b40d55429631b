//! The background work of every connected Chatwoot account, each second in every process:
//! follow booking events into contact attributes (`follow`) and take up sync runs nobody is
//! running (`sync`: just started elsewhere, or left by a process that died).

use std::time::Duration;

use tracing::Instrument;
use turnero_core::ids::next_ulid;

use super::{follow, sync};
use crate::clock::Clock;
use crate::db::Db;
use crate::outbound::Outbound;

/// One round; tests call it instead of waiting.
pub async fn once(db: &Db, clock: &Clock, outbound: &Outbound, owner: &str) {
    if let Err(e) = follow::follow_once(db, outbound, clock, owner).await {
        tracing::warn!(error = ?e, "following booking events into Chatwoot failed");
    }
    match sync::unowned(db, clock.now_secs()).await {
        Ok(runs) => {
            // Each in its own task, so a long run does not hold up the follower.
            for (tenant, id) in runs {
                let (db, clock, outbound) = (db.clone(), clock.clone(), outbound.clone());
                let owner = owner.to_string();
                tokio::spawn(async move {
                    if let Err(e) = sync::run(&db, &outbound, &clock, &tenant, &id, &owner).await {
                        tracing::warn!(error = ?e, run = id, "a Chatwoot sync round failed");
                    }
                });
            }
        }
        Err(e) => tracing::warn!(error = ?e, "looking for Chatwoot syncs failed"),
    }
}

pub fn spawn(
    db: Db,
    clock: Clock,
    outbound: Outbound,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    // One owner name per process: its leases are its own across rounds.
    let owner = next_ulid().to_string();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            once(&db, &clock, &outbound, &owner)
                .instrument(tracing::debug_span!("chatwoot_jobs"))
                .await;
        }
    })
}
