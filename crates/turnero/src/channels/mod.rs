//! Chat channels, one folder each, above the bot: an inbound adapter verifies and
//! de-duplicates what its vendor sends and hands each message to the bot's inbox
//! (`chat::inbox::receive_in`, one inbound type for all); an outbound sender
//! (`chat::outbox::Sender`), registered in [`senders`], renders the bot's outputs within the
//! channel's limits and sends them. WhatsApp Cloud API (`whatsapp`), a Telegram bot
//! (`telegram`), and the web chat served by turnero (`webchat`, whose page reads its
//! replies itself).

pub mod chatwoot;
pub mod email;
pub mod telegram;
pub mod vendor;
pub mod webchat;
pub mod whatsapp;

use std::sync::Arc;

use turnero_core::chat::{Choice, Question};

use crate::chat::outbox::Senders;
use crate::chat::Channel;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::outbound::Outbound;

/// The outbound half of every channel that pushes replies, for the bot's outbox.
pub fn senders(db: &Db, outbound: &Outbound, clock: &Clock, config: &Config) -> Senders {
    let mut senders = Senders::new();
    senders.insert(
        Channel::WhatsApp,
        Arc::new(whatsapp::send::WhatsAppSender::new(
            db.clone(),
            outbound.clone(),
            config.whatsapp_messages_per_second,
        )),
    );
    senders.insert(
        Channel::Chatwoot,
        Arc::new(chatwoot::send::ChatwootSender {
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
    senders.insert(
        Channel::Email,
        Arc::new(email::send::EmailSender {
            db: db.clone(),
            outbound: outbound.clone(),
        }),
    );
    senders
}

/// A question's options as a channel without headings shows them (Telegram's keyboards,
/// Chatwoot's `input_select`): an option under a section that names something (a day's slots
/// under the day) carries the section's name ("mar 08/01 · 09:00").
pub fn headed_options(q: &Question) -> Vec<(String, &Choice)> {
    q.sections
        .iter()
        .flat_map(|s| {
            let heading = s
                .title
                .as_deref()
                .filter(|t| t.chars().any(char::is_alphanumeric));
            s.options.iter().map(move |c| match heading {
                Some(h) => (format!("{h} · {}", c.title), c),
                None => (c.title.clone(), c),
            })
        })
        .collect()
}

/// A question as one text (header, body, footer) for a channel whose widgets carry only the
/// options.
pub fn question_text(q: &Question) -> String {
    [
        q.header.as_deref(),
        Some(q.body.as_str()),
        q.footer.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.trim().is_empty())
    .collect::<Vec<_>>()
    .join("\n\n")
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
