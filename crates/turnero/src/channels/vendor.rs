//! What can go wrong calling a vendor's API (Telegram's Bot API, Chatwoot's), the same for
//! every channel: whether to try again, and a reason fit for a log or an outbox row.

use crate::chat::outbox::Delivery;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Nothing usable came back (connection refused, timeout, a body that is not the
    /// vendor's); worth trying again.
    Unreachable(String),
    /// The outbound guard refuses the API's address: no retry will get through until the
    /// settings change.
    NotAllowed(String),
    /// The vendor answered with an error.
    Refused {
        code: u16,
        description: String,
        /// Seconds to wait, when the vendor says (429).
        retry_after: Option<i64>,
    },
}

impl Failure {
    /// A failed request, without its URL (a Bot API URL holds the bot's token).
    pub fn from_reqwest(e: reqwest::Error) -> Self {
        let refused = crate::outbound::is_refused(&e);
        let why = e.without_url().to_string();
        if refused {
            Failure::NotAllowed(why)
        } else {
            Failure::Unreachable(why)
        }
    }

    /// Whether trying again later may work (the vendor down, a 5xx, 429).
    pub fn is_temporary(&self) -> bool {
        match self {
            Failure::Unreachable(_) => true,
            Failure::NotAllowed(_) => false,
            Failure::Refused { code, .. } => *code == 429 || *code >= 500,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Failure::Unreachable(why) => format!("the API could not be reached: {why}"),
            Failure::NotAllowed(why) => format!("the API's address is refused: {why}"),
            Failure::Refused {
                code, description, ..
            } => format!("{code}: {description}"),
        }
    }

    /// What the outbox makes of it: later for what may pass, failed for good otherwise.
    pub fn delivery(&self) -> Delivery {
        if !self.is_temporary() {
            return Delivery::Refused(self.describe());
        }
        let retry_after = match self {
            Failure::Refused { retry_after, .. } => *retry_after,
            _ => None,
        };
        Delivery::Later {
            error: self.describe(),
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_as_long_as_the_vendor_says_and_a_403_is_for_good() {
        let f = Failure::Refused {
            code: 429,
            description: "Too Many Requests: retry after 5".into(),
            retry_after: Some(5),
        };
        assert!(matches!(
            f.delivery(),
            Delivery::Later {
                retry_after: Some(5),
                ..
            }
        ));
        let blocked = Failure::Refused {
            code: 403,
            description: "Forbidden: bot was blocked by the user".into(),
            retry_after: None,
        };
        assert!(matches!(blocked.delivery(), Delivery::Refused(_)));
        assert!(!Failure::NotAllowed("10.0.0.1".into()).is_temporary());
        assert!(Failure::Unreachable("timeout".into()).is_temporary());
    }
}
