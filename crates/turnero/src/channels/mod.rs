//! Chat channels, one folder each, above the bot: an inbound adapter verifies and
//! de-duplicates what its vendor sends and hands each message to the bot's inbox
//! (`chat::inbox::receive_in`, one inbound type for all); an outbound sender
//! (`chat::outbox::Sender`), registered in [`senders`], renders the bot's outputs within the
//! channel's limits and sends them. WhatsApp Cloud API (`whatsapp`), a Telegram bot
//! (`telegram`), and the web chat served by turnero (`webchat`, whose page reads its
//! replies itself).

pub mod telegram;
pub mod webchat;
pub mod whatsapp;

use std::sync::Arc;

use crate::chat::outbox::Senders;
use crate::chat::Channel;
use crate::clock::Clock;
use crate::db::Db;
use crate::outbound::Outbound;

/// The outbound half of every channel that pushes replies, for the bot's outbox.
pub fn senders(db: &Db, outbound: &Outbound, clock: &Clock) -> Senders {
    let mut senders = Senders::new();
    senders.insert(
        Channel::WhatsApp,
        Arc::new(whatsapp::send::WhatsAppSender {
            db: db.clone(),
            outbound: outbound.clone(),
        }),
    );
    senders.insert(
        Channel::Telegram,
        Arc::new(telegram::send::TelegramSender {
            db: db.clone(),
            outbound: outbound.clone(),
            clock: clock.clone(),
        }),
    );
    senders
}

/// A recorded vendor payload from `../shared/fixtures/channels/`, for the adapters' tests.
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../../../shared/fixtures/channels/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
