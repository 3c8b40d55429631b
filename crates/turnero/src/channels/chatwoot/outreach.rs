//! The clinic writing first, through Chatwoot: the customer's contact found (by the link, or
//! by phone) or created in the account's inbox, a new `pending` conversation opened there for
//! it, and that conversation known here too, so the person's answer reaches the bot like any
//! other message. What is said then goes through the outbox like any reply (durable, in
//! order, `message.sent`). Reminders and confirmations will go out this way.

use reqwest::Method;
use serde_json::json;

use super::{client, contacts, store::Channel as Account};
use crate::agenda::customers::Customer;
use crate::channels::vendor::Failure;
use crate::chat::conversations::{self, Conversation};
use crate::chat::Channel;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::outbound::Outbound;

/// Opens a conversation with the customer in Chatwoot; answers it as turnero knows it.
pub async fn open(
    db: &Db,
    outbound: &Outbound,
    ch: &Account,
    customer: &Customer,
    now: i64,
) -> Result<std::result::Result<Conversation, Failure>> {
    let Some(phone) = customer.phone.as_deref() else {
        return Err(Error::invalid(
            "no_phone",
            "customer_id",
            "the customer has no phone to reach them at",
        ));
    };
    let Some(inbox) = ch.inbox_id else {
        return Err(Error::invalid(
            "no_inbox",
            "inbox_id",
            "set the Chatwoot channel's `inbox_id` to write first",
        ));
    };
    let token = &ch.api_access_token;
    let contact = match contacts::linked(&customer.external_ids, ch) {
        Some(c) => c,
        None => match find_or_create(outbound, ch, customer, phone, inbox).await {
            Ok(c) => c,
            Err(f) => return Ok(Err(f)),
        },
    };
    contacts::link(db, ch, &customer.id, contact, false, now).await?;
    // WhatsApp's source id is the number without `+` (Chatwoot's own rule for its inbox).
    let body = json!({"source_id": phone.trim_start_matches('+'), "inbox_id": inbox,
        "contact_id": contact, "status": "pending"});
    let made = match client::call(outbound, ch, token, Method::POST, "/conversations", &body).await
    {
        Ok(v) => v,
        Err(f) => return Ok(Err(f)),
    };
    let Some(chat) = made["id"].as_i64() else {
        return Ok(Err(Failure::Refused {
            code: 0,
            description: "a conversation without an id".into(),
            retry_after: None,
        }));
    };
    let c = conversations::open(
        db,
        &ch.tenant,
        Channel::Chatwoot,
        &chat.to_string(),
        &customer.id,
        now,
    )
    .await?;
    Ok(Ok(c))
}

async fn find_or_create(
    outbound: &Outbound,
    ch: &Account,
    customer: &Customer,
    phone: &str,
    inbox: i64,
) -> std::result::Result<i64, Failure> {
    if let Some(id) = contacts::find_by_phone(outbound, ch, phone)
        .await?
        .and_then(|c| c["id"].as_i64())
    {
        return Ok(id);
    }
    let token = &ch.api_access_token;
    let body = json!({"inbox_id": inbox, "name": customer.name, "phone_number": phone,
        "custom_attributes": {"turnero_customer_id": customer.id}});
    let made = client::call(outbound, ch, token, Method::POST, "/contacts", &body).await?;
    made["payload"]["contact"]["id"]
        .as_i64()
        .ok_or_else(|| Failure::Refused {
            code: 0,
            description: "a created contact without an id".into(),
            retry_after: None,
        })
}
