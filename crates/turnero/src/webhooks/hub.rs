//! The delivery loop. The queue is the `webhook_deliveries` table, written in the same
//! transaction as each event, so nothing exists only in memory:
//!
//! 1. **Claim.** For each endpoint with due work and free room in this process, one UPDATE
//!    marks up to `depth − outstanding` of its due rows `sending` under a random
//!    claim token and a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes
//!    never take the same row; SQLite has one writer). The process renews the leases of the
//!    claims it still holds once a third of a lease has gone by, so a long wait for a slow
//!    endpoint's turn never lets them lapse; rows whose lease ran out (the process died) go
//!    back to `pending` and are sent again: at least once. The depth is 64 × concurrency for
//!    an endpoint that has been answering fast, 2 × for a slow or failing one, which can then
//!    neither hog this process's in-flight room nor hold rows for long.
//! 2. **Send.** One task per delivery, at most `concurrency` at a time per endpoint, so a slow
//!    or dead endpoint only ever waits on itself.
//! 3. **Record.** Results are written in batches (one transaction for many attempts): the
//!    attempt row, and the delivery `delivered`, rescheduled, or `failed` when the schedule is
//!    used up (or the receiver answered 410 Gone, which also turns the endpoint off).
//! 4. **Breaker.** When an endpoint has failed `breaker_failures` times within the window, it
//!    pauses: its due deliveries are counted once as `rejected` and kept. After the pause one
//!    process takes the probe (an atomic `open → probing` update) and sends one delivery;
//!    success closes the breaker and the backlog flows, failure pauses it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::formats;
use super::job::{Done, Job, Outcome};
use super::queue;
use super::record;
use super::send::attempt;
use super::slot::Slot;
use super::Settings;
use crate::clock::Clock;
use crate::db::{Batch, Db};
use crate::error::Result;
use crate::outbound::Outbound;

pub struct Hub {
    pub db: Db,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub outbound: Outbound,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    in_flight: AtomicUsize,
    /// Claim token → its rows not finished yet in this process; their leases get renewed.
    claims: Mutex<HashMap<String, Held>>,
    /// Set when the process stops: nothing more is claimed, claimed rows not yet sending go
    /// back to the queue, sends in flight finish and are recorded (see [`Hub::drain`]).
    stopping: std::sync::atomic::AtomicBool,
    stop_now: tokio::sync::Notify,
}

/// A claim this process holds.
struct Held {
    /// Its rows not finished yet.
    left: usize,
    /// Until when its lease was last set.
    lease_until: i64,
}

impl Hub {
    pub fn new(db: Db, clock: Clock, settings: Settings, outbound: Outbound) -> Arc<Self> {
        Arc::new(Hub {
            db,
            clock,
            settings: Arc::new(settings),
            outbound,
            slots: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            claims: Mutex::default(),
            stopping: Default::default(),
            stop_now: tokio::sync::Notify::new(),
        })
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Stops claiming, lets the sends in flight finish and records them, and puts claimed
    /// rows that were still waiting for their turn back in the queue; `loop_task` (what
    /// [`Hub::spawn`] answered) ends when that is done. Past `within` it is aborted: its rows
    /// come back when their lease runs out and are sent again (receivers de-duplicate by
    /// `webhook-id`).
    pub async fn drain(&self, mut loop_task: tokio::task::JoinHandle<()>, within: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_now.notify_one();
        if tokio::time::timeout(within, &mut loop_task).await.is_err() {
            tracing::warn!(
                in_flight = self.in_flight.load(Ordering::SeqCst),
                "webhook sends still in flight at shutdown; they will be sent again"
            );
            loop_task.abort();
        }
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn slot(&self, webhook: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().expect("slots lock");
        slots
            .entry(webhook.to_string())
            .or_insert_with(|| {
                Arc::new(Slot {
                    sending: Arc::new(Semaphore::new(self.settings.endpoint_concurrency as usize)),
                    outstanding: AtomicUsize::new(0),
                    failures: Mutex::default(),
                    paused: Mutex::default(),
                    avg_ms: AtomicU64::new(self.settings.timeout.as_millis() as u64),
                })
            })
            .clone()
    }

    /// Runs the loop until the task is aborted.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
            let recorder = tokio::spawn(hub.clone().record_loop(done_rx));
            let mut last_upkeep = std::time::Instant::now() - Duration::from_secs(60);
            loop {
                if hub.stopping() {
                    // The recorder ends once every send in flight has handed in its result.
                    drop(done_tx);
                    let _ = recorder.await;
                    return;
                }
                if last_upkeep.elapsed() >= hub.settings.upkeep_every() {
                    last_upkeep = std::time::Instant::now();
                    if let Err(e) = hub.upkeep(&done_tx).await {
                        tracing::warn!(error = ?e, "webhook upkeep failed");
                    }
                }
                let claimed = match hub.claim_round(&done_tx).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = ?e, "webhook claim failed");
                        0
                    }
                };
                if claimed == 0 {
                    tokio::select! {
                        _ = hub.db.committed.notified() => {}
                        _ = hub.stop_now.notified() => {}
                        // Not longer than an upkeep period: leases must be renewed in time.
                        _ = tokio::time::sleep(hub.settings.upkeep_every()) => {}
                    }
                }
                if recorder.is_finished() {
                    tracing::error!("webhook recorder stopped");
                    return;
                }
            }
        })
    }

    /// Claims due deliveries of every endpoint with room and starts sending them.
    async fn claim_round(self: &Arc<Self>, done: &mpsc::UnboundedSender<Done>) -> Result<usize> {
        let now = self.now_ms();
        let due = queue::due_endpoints(&self.db, now).await?;
        let mut claimed = 0;
        for webhook in due {
            let slot = self.slot(&webhook);
            if slot.is_paused() {
                // The stored breaker is still closed: either the recorder has not opened it
                // yet, or someone closed it (a probe elsewhere, the operator). Give the
                // recorder a moment, then go by the stored state.
                let since = slot.paused.lock().ok().and_then(|p| *p);
                if since.is_some_and(|t| t.elapsed() < Duration::from_secs(2)) {
                    continue;
                }
                slot.resume();
            }
            // Claims refill half the queue at a time: claiming a row or two each time a send
            // finishes would cost a round of statements per delivery.
            let cap = slot.depth(self.settings.endpoint_concurrency as usize);
            let outstanding = slot.outstanding.load(Ordering::SeqCst);
            let room = cap.saturating_sub(outstanding);
            let global = (self.settings.max_in_flight as usize)
                .saturating_sub(self.in_flight.load(Ordering::SeqCst));
            let take = room.min(global);
            if take == 0 || (outstanding > 0 && room < cap / 2) {
                continue;
            }
            let jobs = self.claim(&webhook, take, false, now).await?;
            claimed += jobs.len();
            self.start(jobs, slot, done.clone());
        }
        Ok(claimed)
    }

    /// Marks up to `limit` due rows of one endpoint as ours and reads what sending needs.
    async fn claim(&self, webhook: &str, limit: usize, probe: bool, now: i64) -> Result<Vec<Job>> {
        let claim = crate::secrets::random_hex(12);
        let lease_until = now + self.settings.lease_ms();
        let jobs = queue::claim(&self.db, webhook, &claim, lease_until, limit, probe, now).await?;
        if !jobs.is_empty() {
            let held = Held {
                left: jobs.len(),
                lease_until,
            };
            self.held_claims().insert(claim, held);
        }
        Ok(jobs)
    }

    /// Sends a claim's jobs, at most `concurrency` at a time, starting them in the claim's
    /// order (oldest first): one task takes the endpoint's permits in turn (the semaphore
    /// is fair), and each send gets its own task.
    fn start(self: &Arc<Self>, jobs: Vec<Job>, slot: Arc<Slot>, done: mpsc::UnboundedSender<Done>) {
        slot.outstanding.fetch_add(jobs.len(), Ordering::SeqCst);
        self.in_flight.fetch_add(jobs.len(), Ordering::SeqCst);
        let hub = self.clone();
        tokio::spawn(async move {
            for job in jobs {
                // Held by the send's task: given back when it is done, or if it panics.
                let Ok(permit) = slot.sending.clone().acquire_owned().await else {
                    return;
                };
                // Debug level: a span per delivery, at tens of thousands a second, is not
                // free; the warnings inside name their webhook anyway.
                let span = tracing::debug_span!("delivery", event = %job.event.id, webhook = %job.endpoint.id);
                let (hub, slot, done) = (hub.clone(), slot.clone(), done.clone());
                tokio::spawn(hub.send_one(job, slot, permit, done).instrument(span));
            }
        });
    }

    /// One delivery, holding one of its endpoint's permits.
    async fn send_one(
        self: Arc<Self>,
        job: Job,
        slot: Arc<Slot>,
        permit: OwnedSemaphorePermit,
        done: mpsc::UnboundedSender<Done>,
    ) {
        let hub = self;
        let outcome = if (slot.is_paused() && !job.probe) || hub.stopping() {
            Outcome::Released
        } else {
            hub.send_job(&job).await
        };
        let at_ms = hub.now_ms();
        // Counted before the next send of this endpoint may start.
        if let Outcome::Sent(sent) = &outcome {
            tracing::debug!(
                succeeded = sent.succeeded(),
                duration_ms = sent.duration_ms,
                "attempt sent"
            );
            slot.took(sent.duration_ms);
            if sent.gone() {
                // The rest of its queue goes back unsent: the endpoint is being turned off.
                slot.pause();
            }
            match (sent.succeeded(), job.probe) {
                (true, true) => slot.resume(),
                (false, false) if slot.failed(at_ms, &hub.settings) => {
                    tracing::warn!(
                        webhook = job.endpoint.id,
                        "webhook endpoint paused after repeated failures"
                    );
                }
                _ => {}
            }
        }
        drop(permit);
        let half = slot.depth(hub.settings.endpoint_concurrency as usize) / 2;
        let was_outstanding = slot.outstanding.fetch_sub(1, Ordering::SeqCst);
        let was_in_flight = hub.in_flight.fetch_sub(1, Ordering::SeqCst);
        let _ = done.send(Done {
            job,
            outcome,
            at_ms,
        });
        // Room for a refill was freed: let the loop claim more without waiting for its
        // poll (see the refill rule in `claim_round`).
        if was_outstanding == half + 1
            || was_outstanding == 1
            || was_in_flight == hub.settings.max_in_flight as usize
        {
            hub.db.committed.notify_one();
        }
    }

    async fn send_job(&self, job: &Job) -> Outcome {
        let ctx = formats::context_for(&self.db, &job.endpoint, &job.event).await;
        match formats::body(job.endpoint.format, &job.event, &ctx) {
            Some(body) => {
                Outcome::Sent(attempt(&self.outbound, &job.endpoint, &job.event.id, body).await)
            }
            None => Outcome::Skipped,
        }
    }

    /// Writes results in batches: whatever has arrived goes in one transaction.
    async fn record_loop(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Done>) {
        let mut buf = Vec::new();
        while rx.recv_many(&mut buf, 200).await > 0 {
            let batch = std::mem::take(&mut buf);
            if let Err(e) = self.record(&batch).await {
                // One bad result (its endpoint deleted meanwhile, say) must not sink the
                // others: each is written on its own. One that still fails stays `sending`
                // and its lease brings it back: at least once.
                tracing::warn!(error = ?e, count = batch.len(), "recording a batch failed; one by one");
                for d in &batch {
                    if let Err(e) = self.record(std::slice::from_ref(d)).await {
                        tracing::error!(error = ?e, webhook = d.job.endpoint.id, event = d.job.event.id, "recording a webhook attempt failed");
                    }
                }
            }
            // Only now is the claim done with: until its result is written, its lease is
            // renewed, so no one (this process included) takes the row back.
            for d in &batch {
                self.claim_finished(&d.job.claim);
            }
        }
    }

    async fn record(&self, done: &[Done]) -> Result<()> {
        let mut batch = Batch::default();
        let failed_endpoints = record::statements(&self.settings, done, &mut batch)?;
        let mut tx = self.db.begin().await?;
        batch.run(&mut tx).await?;
        tx.commit().await?;
        for webhook in failed_endpoints {
            self.maybe_open_breaker(webhook).await?;
        }
        Ok(())
    }

    /// Opens the breaker when the endpoint failed often enough within the window.
    async fn maybe_open_breaker(&self, webhook: &str) -> Result<()> {
        queue::open_breaker_if_failing(&self.db, &self.settings, webhook, self.now_ms()).await
    }

    fn held_claims(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.claims.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn claim_finished(&self, claim: &str) {
        let mut claims = self.held_claims();
        if let Some(held) = claims.get_mut(claim) {
            held.left -= 1;
            if held.left == 0 {
                claims.remove(claim);
            }
        }
    }

    /// Endpoints turned off, deleted, or paused by a breaker (perhaps in another process)
    /// while this process holds deliveries for them: those go back to the queue unsent.
    async fn pause_stopped_endpoints(&self) -> Result<()> {
        let busy: Vec<(String, Arc<Slot>)> = self
            .slots
            .lock()
            .expect("slots lock")
            .iter()
            .filter(|(_, s)| s.outstanding.load(Ordering::SeqCst) > 0 && !s.is_paused())
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        let ids: Vec<String> = busy.iter().map(|(id, _)| id.clone()).collect();
        let open = queue::sending_endpoints(&self.db, &ids).await?;
        for (id, slot) in &busy {
            if !open.contains(id) {
                slot.pause();
            }
        }
        Ok(())
    }

    /// Renews the claims a third of whose lease has gone by. Renewing every claim at every
    /// upkeep rewrote each row claimed ahead once a second: during a PostgreSQL drain, 20,000
    /// rows a second, with the recorder waiting on their locks. Upkeeps come at most a third
    /// of a lease apart, so a claim is renewed with at least a third of its lease left.
    async fn renew_leases(&self, now: i64) -> Result<()> {
        let lease = self.settings.lease_ms();
        let due: Vec<String> = self
            .held_claims()
            .iter()
            .filter(|(_, held)| held.lease_until - now < lease * 2 / 3)
            .map(|(claim, _)| claim.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let lease_until = now + lease;
        queue::renew(&self.db, &due, lease_until).await?;
        let mut claims = self.held_claims();
        for claim in &due {
            if let Some(held) = claims.get_mut(claim) {
                held.lease_until = lease_until;
            }
        }
        Ok(())
    }

    /// Every so often: renew our leases, take back rows whose sender died, count deliveries held by open
    /// breakers as rejected, and send the probe of breakers whose pause is over.
    async fn upkeep(self: &Arc<Self>, done: &mpsc::UnboundedSender<Done>) -> Result<()> {
        let now = self.now_ms();
        self.renew_leases(now).await?;
        self.pause_stopped_endpoints().await?;
        queue::take_back_lapsed(&self.db, now).await?;
        for queue::Paused {
            webhook,
            until,
            probing,
        } in queue::paused_endpoints(&self.db).await?
        {
            if until > now {
                // Only an open breaker rejects. While a probe is out, the deliveries behind
                // it wait for its answer: counting them then made the count depend on how
                // long the probe took (failed deliveries coming due meanwhile).
                if !probing {
                    queue::count_rejected(&self.db, &webhook, now).await?;
                }
                continue;
            }
            let lease_until = now + self.settings.lease_ms();
            if !queue::take_probe(&self.db, &webhook, lease_until, now).await? {
                continue; // another process took the probe
            }
            let jobs = self.claim(&webhook, 1, true, now).await?;
            if jobs.is_empty() {
                // Nothing waiting to probe with: the next event finds the endpoint open.
                queue::close_probe(&self.db, &webhook).await?;
            } else {
                self.start(jobs, self.slot(&webhook), done.clone());
            }
        }
        Ok(())
    }
}
