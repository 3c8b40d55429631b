use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::chat::conversations::{Conversation, TranscriptLine};
use turnero_core::time::fmt_ts;

/// A conversation as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: String,
    /// `whatsapp` or `webchat`.
    pub channel: String,
    /// The person on that channel: a WhatsApp number (digits) or a web chat visitor.
    pub contact: String,
    pub customer_id: Option<String>,
    /// The step waiting for an answer; none when idle.
    pub step: Option<String>,
    pub flow_version: i64,
    /// Handed to a person: the bot is silent until released.
    pub handoff: bool,
    #[schema(value_type = Object)]
    pub variables: BTreeMap<String, String>,
    pub last_inbound_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Conversation> for ConversationOut {
    fn from(c: &Conversation) -> Self {
        Self {
            id: c.id.clone(),
            channel: c.channel.as_str().to_string(),
            contact: c.channel.public_contact(&c.contact).to_string(),
            customer_id: c.customer_id.clone(),
            step: c.state.at.clone(),
            flow_version: c.flow_version,
            handoff: c.handoff,
            // Variables starting with `_` are the flow's own bookkeeping.
            variables: c
                .state
                .vars
                .iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            last_inbound_at: c.last_inbound_at.map(fmt_ts),
            created_at: fmt_ts(c.created_at),
            updated_at: fmt_ts(c.updated_at),
        }
    }
}

impl From<Conversation> for ConversationOut {
    fn from(c: Conversation) -> Self {
        Self::from(&c)
    }
}

/// One line of a conversation's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptLineOut {
    pub id: String,
    /// `user`, `bot` or `operator`.
    pub from: String,
    /// What was said, as text (a question with its numbered options).
    pub text: String,
    /// The option the person pressed, if any.
    pub reply_id: Option<String>,
    /// Replies: `queued`, `sent` or `failed`.
    pub status: Option<String>,
    pub at: String,
}

impl From<TranscriptLine> for TranscriptLineOut {
    fn from(l: TranscriptLine) -> Self {
        Self {
            id: l.id,
            from: l.from,
            text: l.text,
            reply_id: l.reply_id,
            status: l.status,
            at: fmt_ts(l.at),
        }
    }
}
