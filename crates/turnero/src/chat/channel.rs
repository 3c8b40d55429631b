//! The channels a conversation can be on, as the bot needs to know them: what each proves
//! about the person and how its replies leave. The adapters themselves (verifying, parsing,
//! rendering, sending) live in `channels/`, above the bot; adding one is a variant here, its
//! folder there, and its registration in `channels::senders`.

use std::fmt;
use std::str::FromStr;

use turnero_core::phone::E164;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// WhatsApp Cloud API: the contact is the sender's number (digits).
    WhatsApp,
    /// The web chat page: the contact is the hash of the visitor's session token.
    WebChat,
    /// A Telegram bot: the contact is the private chat's id. Telegram never tells the
    /// phone; a contact the person shares of themselves proves it for the conversation.
    Telegram,
    /// A conversation in the clinic's Chatwoot, the bot answering as its agent bot: the
    /// contact is Chatwoot's conversation id. Its agents take over in Chatwoot itself.
    Chatwoot,
    /// Mail the clinic sends (reminders, confirmations): the contact is the address. Nobody
    /// writes in on it; answers come back through the mail's signed links.
    Email,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::WhatsApp,
        Channel::WebChat,
        Channel::Telegram,
        Channel::Chatwoot,
        Channel::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::WebChat => "webchat",
            Channel::Telegram => "telegram",
            Channel::Chatwoot => "chatwoot",
            Channel::Email => "email",
        }
    }

    /// The phone the contact itself proves, if it does (a WhatsApp number). A phone typed
    /// into a conversation proves nothing: it never unlocks what the agenda knows about a
    /// customer. (A Telegram conversation may prove one later: `Conversation::proven_phone`.)
    pub fn proven_phone(self, contact: &str) -> Option<E164> {
        match self {
            Channel::WhatsApp => E164::parse(&format!("+{contact}"), None).ok(),
            Channel::WebChat | Channel::Telegram | Channel::Chatwoot | Channel::Email => None,
        }
    }

    /// Whether replies are pushed to the person by a sender (queued until it has sent them)
    /// rather than read by the person's own page (sent once written).
    pub fn pushes_replies(self) -> bool {
        matches!(
            self,
            Channel::WhatsApp | Channel::Telegram | Channel::Chatwoot | Channel::Email
        )
    }

    /// Whether the channel has agents of its own who take a handed-off conversation there
    /// (the bot then queues `Output::HandOff` for the sender).
    pub fn has_own_agents(self) -> bool {
        matches!(self, Channel::Chatwoot)
    }

    /// Whether messages outside the 24-hour window need an approved template (WhatsApp).
    pub fn has_service_window(self) -> bool {
        matches!(self, Channel::WhatsApp)
    }

    /// Who the person is in events and to staff: the contact where it means something to
    /// them (a number), `visitor` where it is a secret (a session token's hash).
    pub fn public_contact(self, contact: &str) -> &str {
        match self {
            Channel::WhatsApp | Channel::Telegram | Channel::Chatwoot | Channel::Email => contact,
            Channel::WebChat => "visitor",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown channel `{s}`"))
    }
}
