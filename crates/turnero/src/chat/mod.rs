//! The booking bot: stored conversations run through the flow interpreter
//! (`turnero_core::flow`), the agenda answering its requests, and what it says queued in the
//! same transaction as the conversation's new state, then sent by the channel.
//!
//! A message is answered by whichever process stored it, right after storing it; a
//! process that dies before answering leaves it in `chat_inbox`, where the sweeper of any
//! process picks it up. Turns of one conversation run one at a time within a process (a
//! lock per conversation) and across processes (the conversation's `revision`).

pub mod agenda;
mod channel;
pub mod conversations;
pub mod erasure;
pub mod flows;
pub mod inbox;
mod notice_answers;
pub mod notices;
pub mod outbox;
mod runner;
pub mod waiting;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::broadcast;
use tracing::Instrument;

pub use channel::Channel;

use crate::agenda::snapshot::SnapshotCache;
use crate::clock::Clock;
use crate::db::Db;
use crate::outbound::Outbound;

/// How long a message may wait unanswered before the sweeper takes it (the process that
/// stored it normally answers within milliseconds).
const STRANDED_AFTER_SECS: i64 = 5;

pub struct Chat {
    pub db: Db,
    pub clock: Clock,
    pub outbound: Outbound,
    /// The slot search's cache (shared with the API).
    pub snapshots: Arc<SnapshotCache>,
    /// How replies leave, per channel that pushes them.
    senders: outbox::Senders,
    pub flows: flows::FlowCache,
    turns: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    /// Conversation ids with new outputs, for the web chat's event streams.
    pub said: broadcast::Sender<String>,
    /// Set when the process is stopping: open event streams end (the page reconnects,
    /// perhaps to another process) instead of holding the shutdown up.
    pub closing: tokio::sync::watch::Sender<bool>,
    /// Where patients reach this server (the links in reminder mails); set once it listens.
    pub public_url: std::sync::OnceLock<String>,
}

impl Chat {
    pub fn new(
        db: Db,
        clock: Clock,
        outbound: Outbound,
        snapshots: Arc<SnapshotCache>,
        senders: outbox::Senders,
    ) -> Arc<Self> {
        Arc::new(Self {
            db,
            clock,
            outbound,
            snapshots,
            senders,
            flows: flows::FlowCache::default(),
            turns: Mutex::default(),
            said: broadcast::channel(1024).0,
            closing: tokio::sync::watch::channel(false).0,
            public_url: std::sync::OnceLock::new(),
        })
    }

    /// The lock that keeps one conversation's turns in order within this process.
    fn turn_lock(&self, conversation: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.turns.lock().expect("turn locks poisoned");
        if let Some(lock) = map.get(conversation).and_then(Weak::upgrade) {
            return lock;
        }
        if map.len() > 4096 {
            map.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(conversation.to_string(), Arc::downgrade(&lock));
        lock
    }

    /// Answers the conversation's waiting messages in the background.
    pub fn answer_soon(self: &Arc<Self>, conversation: String) {
        let chat = self.clone();
        let span = tracing::debug_span!("turn", conversation = %conversation);
        tokio::spawn(
            async move {
                if let Err(e) = chat.answer(&conversation).await {
                    tracing::error!(error = ?e, "answering a conversation failed");
                }
            }
            .instrument(span),
        );
    }

    /// Every `every`: answers messages a dead process left behind and retries sends whose
    /// lease ran out.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let chat = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let sweep = chat
                    .sweep_once()
                    .instrument(tracing::info_span!("chat_sweep"));
                if let Err(e) = sweep.await {
                    tracing::warn!(error = ?e, "chat sweep failed");
                }
            }
        })
    }

    /// Answers every waiting message of a conversation, in order, then sends the replies
    /// (`runner`).
    pub async fn answer(self: &Arc<Self>, conversation: &str) -> crate::error::Result<()> {
        runner::answer(self, conversation).await
    }

    /// Sends a conversation's queued replies on a channel that pushes them, in order
    /// (`outbox`).
    pub async fn send_queued(&self, conversation: &str) -> crate::error::Result<()> {
        outbox::send_queued(self, conversation).await
    }

    /// Queues a staff member's message on the conversation's channel and sends it.
    pub async fn say_as_staff(
        self: &Arc<Self>,
        c: &conversations::Conversation,
        output: turnero_core::chat::Output,
        now: i64,
    ) -> crate::error::Result<()> {
        let mut tx = self.db.begin().await?;
        let mut batch = crate::db::Batch::default();
        outbox::queue_from(&mut batch, c, &[output], "operator", now)?;
        batch.run(&mut tx).await?;
        self.db.commit_events(tx).await?;
        let _ = self.said.send(c.id.clone());
        let chat = self.clone();
        let conversation = c.id.clone();
        let send = async move {
            if let Err(e) = chat.send_queued(&conversation).await {
                tracing::error!(error = ?e, "sending a staff message failed");
            }
        };
        tokio::spawn(send.instrument(tracing::Span::current()));
        Ok(())
    }

    /// One sweep (tests call it instead of waiting).
    pub async fn sweep_once(self: &Arc<Self>) -> crate::error::Result<()> {
        let now = self.clock.now_secs();
        for c in inbox::stranded(&self.db, now - STRANDED_AFTER_SECS, 100).await? {
            self.answer(&c).await?;
        }
        for c in outbox::stranded(&self.db, now, 100).await? {
            self.send_queued(&c).await?;
        }
        Ok(())
    }

    /// Every `every`: queues the reminders and confirmations that are due (`notices`).
    pub fn spawn_notifier(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let chat = self.clone();
        tokio::spawn(async move {
            loop {
                // Rows due now go at once; a full batch means more are waiting.
                match notices::dispatch_due(&chat).await {
                    Ok(n) if n as i64 >= notices::BATCH => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = ?e, "sending reminders failed"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}
