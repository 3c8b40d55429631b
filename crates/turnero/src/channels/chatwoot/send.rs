//! The bot's outputs to a Chatwoot conversation, with the agent bot's token (`render`, then
//! `POST …/conversations/{id}/messages` per body); a handoff is `toggle_status` to `open`,
//! which puts the conversation in the agents' queue.

use futures_util::future::BoxFuture;
use reqwest::Method;
use serde_json::json;
use turnero_core::chat::Output;

use super::{client, render, store};
use crate::chat::conversations::Conversation;
use crate::chat::outbox::{Delivery, Sender};
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

pub struct ChatwootSender {
    pub db: Db,
    pub outbound: Outbound,
}

impl Sender for ChatwootSender {
    fn send<'a>(
        &'a self,
        to: &'a Conversation,
        output: &'a Output,
    ) -> BoxFuture<'a, Result<Delivery>> {
        Box::pin(async move {
            let Some(ch) = store::get(&self.db, &to.tenant).await? else {
                return Ok(Delivery::Refused(
                    "the Chatwoot channel is not configured".into(),
                ));
            };
            let conversation = format!("/conversations/{}", to.contact);
            let token = ch.bot_token();
            if let Output::HandOff = output {
                let path = format!("{conversation}/toggle_status");
                let body = json!({"status": "open"});
                return Ok(
                    match client::call(&self.outbound, &ch, token, Method::POST, &path, &body).await
                    {
                        Ok(_) => Delivery::Sent(vec![]),
                        Err(f) => f.delivery(),
                    },
                );
            }
            let path = format!("{conversation}/messages");
            let mut ids = Vec::new();
            for body in render::messages(output) {
                match client::call(&self.outbound, &ch, token, Method::POST, &path, &body).await {
                    Ok(sent) => ids.extend(sent["id"].as_i64().map(|id| id.to_string())),
                    Err(f) => return Ok(f.delivery()),
                }
            }
            Ok(Delivery::Sent(ids))
        })
    }
}
