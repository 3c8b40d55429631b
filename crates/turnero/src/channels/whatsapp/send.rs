//! The bot's outputs to a WhatsApp number: rendered as Cloud API messages within WhatsApp's
//! limits (`render`) and posted to `{graph_api_url}/{phone_number_id}/messages` with the
//! number's token, through the outbound guard (checked at send time, not only when saved).

use std::num::NonZeroU32;

use futures_util::future::BoxFuture;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::Value;
use turnero_core::chat::Output;

use super::{render, store};
use crate::chat::conversations::Conversation;
use crate::chat::outbox::{Delivery, Sender};
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

pub struct WhatsAppSender {
    pub db: Db,
    pub outbound: Outbound,
    /// Each number's send rate (Meta's throughput per number), in this process.
    per_number: DefaultKeyedRateLimiter<String>,
}

/// Meta's "slow down" codes: throughput (130429), pair rate to one user (131056) and spam
/// rate (131048). They are retried after a pause, never dropped.
const SLOW_DOWN: &[i64] = &[130429, 131056, 131048];

/// The longest a send waits for the number's rate before it is put back for later.
const RATE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl WhatsAppSender {
    pub fn new(db: Db, outbound: Outbound, per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).expect("at least one");
        WhatsAppSender {
            db,
            outbound,
            // A tenth of a second's worth at once, then paced: Meta counts per second.
            per_number: RateLimiter::keyed(
                Quota::per_second(rate)
                    .allow_burst(NonZeroU32::new((rate.get() / 10).max(1)).expect("at least one")),
            ),
        }
    }
}

impl Sender for WhatsAppSender {
    fn send<'a>(
        &'a self,
        to: &'a Conversation,
        output: &'a Output,
    ) -> BoxFuture<'a, Result<Delivery>> {
        Box::pin(async move {
            let Some(ch) = store::get(&self.db, &to.tenant).await? else {
                return Ok(Delivery::Refused(
                    "the WhatsApp channel is not configured".into(),
                ));
            };
            Ok(self.post(&ch, &to.contact, output).await)
        })
    }
}

impl WhatsAppSender {
    /// Posts one output (one or more Cloud API messages) to the Graph API.
    async fn post(&self, ch: &store::Channel, to: &str, output: &Output) -> Delivery {
        let url = format!("{}/{}/messages", ch.graph_api_url, ch.phone_number_id);
        // At send time, not only when saved: the allow-list may have changed since, and an
        // IP literal never reaches the guarded resolver.
        if let Err(e) = self.outbound.check_url(&url) {
            return Delivery::Refused(format!("the Graph API URL is refused: {e}"));
        }
        let mut ids = Vec::new();
        for body in render::messages(to, output, None) {
            // The wait for the number's turn stays well inside the outbox's send lease (30 s,
            // with the request's own timeout after it): a row is never sent by a second
            // process because the first was still queuing for the rate.
            let turn = self.per_number.until_key_ready(&ch.phone_number_id);
            if tokio::time::timeout(RATE_WAIT, turn).await.is_err() {
                return Delivery::Later {
                    error: "waiting for the number's send rate".into(),
                    retry_after: Some(1),
                };
            }
            let sent = self
                .outbound
                .client
                .post(&url)
                .bearer_auth(&ch.access_token)
                .json(&body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => return Delivery::later(e.without_url().to_string()),
            };
            let status = resp.status();
            let answer: Value = resp.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                if let Some(id) = answer["messages"][0]["id"].as_str() {
                    ids.push(id.to_string());
                }
            } else {
                let why = format!(
                    "{status}: {}",
                    answer["error"]["message"].as_str().unwrap_or("")
                );
                let code = answer["error"]["code"].as_i64().unwrap_or_default();
                return if SLOW_DOWN.contains(&code) {
                    Delivery::Later {
                        error: why,
                        retry_after: Some(5),
                    }
                } else if status.is_server_error() || status.as_u16() == 429 {
                    Delivery::later(why)
                } else {
                    Delivery::Refused(why)
                };
            }
        }
        Delivery::Sent(ids)
    }
}
