//! One turn: read the conversation, run the flow on what the person said (the agenda
//! answering its requests), and write the new state, the replies and the events in one
//! transaction, if nobody else answered first.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use turnero_core::event;
use turnero_core::flow::{self, Input};
use turnero_core::ids::next_ulid;
use turnero_core::phone::parse_region;

use super::conversations::{self, Conversation};
use super::inbox::{self, Pending};
use super::{agenda, flows, notice_answers, outbox, Chat};
use crate::agenda::{events, tenants};
use crate::db::Batch;
use crate::error::{Error, Result};

/// How many agenda requests one message may lead to (a flow looping through branches is
/// stopped rather than left spinning).
const MAX_REQUESTS_PER_TURN: usize = 16;

#[derive(Serialize)]
struct VariablesChanged<'a> {
    channel: &'a str,
    conversation_id: &'a str,
    contact_id: &'a str,
    customer_id: Option<&'a str>,
    /// New values; `null` for a variable no longer set.
    variables: &'a BTreeMap<String, Option<String>>,
}

#[derive(Serialize)]
struct Handoff<'a> {
    channel: &'a str,
    conversation_id: &'a str,
    contact_id: &'a str,
    customer_id: Option<&'a str>,
    step: Option<&'a str>,
    /// The hold on the slot the person had picked, kept for the staff who take over, and
    /// that slot as the person read it.
    hold_id: Option<&'a str>,
    held_slot: Option<&'a str>,
}

/// Answers every waiting message of a conversation, in order, then sends the replies.
///
/// One process at a time answers a conversation: it claims it in the database before a turn
/// can change the agenda, and lets go only when no message waits (one statement each), so a
/// process that finds it claimed can leave its message to the owner.
pub(super) async fn answer(chat: &Arc<Chat>, conversation: &str) -> Result<()> {
    let lock = chat.turn_lock(conversation);
    {
        let _turn = lock.lock().await;
        let owner = next_ulid().to_string();
        let now = chat.clock.now_secs();
        if conversations::claim(&chat.db, conversation, &owner, now).await? {
            loop {
                if let Err(e) = answer_claimed(chat, conversation).await {
                    conversations::unclaim(&chat.db, conversation, &owner).await?;
                    return Err(e);
                }
                if conversations::unclaim_if_idle(&chat.db, conversation, &owner).await? {
                    break;
                }
            }
        }
    }
    outbox::send_queued(chat, conversation).await
}

/// Runs a turn on each waiting message while this process holds the conversation.
async fn answer_claimed(chat: &Chat, conversation: &str) -> Result<()> {
    while let Some(m) = inbox::next_pending(&chat.db, conversation).await? {
        if let Err(e) = turn(chat, conversation, &m).await {
            let now = chat.clock.now_secs();
            if !inbox::failed(&chat.db, &m.id, now).await? {
                return Err(e); // the sweeper tries again
            }
            tracing::error!(error = ?e, message = m.id, conversation,
                "a message failed every turn and was set aside unanswered");
        }
    }
    Ok(())
}

async fn turn(chat: &Chat, id: &str, msg: &Pending) -> Result<()> {
    // A conflict means another process wrote the conversation meanwhile: read it again.
    for _ in 0..5 {
        let mut c = conversations::load(&chat.db, id).await?;
        let now = chat.clock.now_secs();
        let mut outputs = Vec::new();
        let mut changed = BTreeMap::new();
        let mut handed = false;
        let reply_id = msg.reply_id.as_deref();
        let answered = notice_answers::answer_in_turn(chat, &c, reply_id, &msg.text, now).await?;
        if let Some((said, to_person)) = answered {
            // The answer to a reminder: acted on; what the person writes next starts the
            // booking flow afresh ("cancel" then "another day").
            outputs = said;
            c.state.at = None;
            if to_person {
                handed = true;
                c.state.handoff = true;
                c.handoff = true;
                if c.channel.has_own_agents() {
                    outputs.push(turnero_core::chat::Output::HandOff);
                }
            }
        } else {
            // Also while handed off: the engine then only tells the person, once, that
            // someone will answer.
            let tenant = tenants::get(&chat.db, &c.tenant).await?;
            if c.state.at.is_none() && !c.handoff {
                // A new run: the flow version of today, what is known of the person.
                c.flow_version = flows::current_version(&chat.db, &c.tenant).await?;
                c.language = tenant.locale.clone();
                prefill(chat, &mut c).await?;
            }
            let region = parse_region(&tenant.phone_region).ok();
            let flow = flows::version(
                &chat.db,
                &chat.flows,
                &c.tenant,
                c.flow_version,
                &c.language,
            )
            .await?;
            let cx = agenda::Ctx {
                db: &chat.db,
                tenant: &c.tenant,
                source: c.channel.as_str(),
                proven_phone: c.proven_phone(),
                contact: &c.contact,
                language: &flow.language,
                now,
                snapshots: &chat.snapshots,
                outbound: &chat.outbound,
                message: &msg.id,
            };
            let mut input = Input::Message {
                text: msg.text.clone(),
                reply_id: msg.reply_id.clone(),
            };
            for _ in 0..MAX_REQUESTS_PER_TURN {
                let p = flow::step(&flow, &mut c.state, input, region);
                outputs.extend(p.outputs);
                changed.extend(p.changed);
                handed |= p.handoff;
                if let Some(hold) = p.release {
                    agenda::release(&cx, &hold).await;
                }
                match p.need {
                    Some(r) => input = Input::Reply(agenda::perform(&cx, r).await?),
                    None => break,
                }
            }
            c.handoff = c.state.handoff;
            if handed && c.channel.has_own_agents() {
                outputs.push(turnero_core::chat::Output::HandOff);
            }
            if let Some(customer) = c.state.vars.get("customer.id") {
                c.customer_id = Some(customer.clone());
            }
        }
        let mut tx = chat.db.begin().await?;
        if !inbox::done_in(&mut tx, &msg.id, now).await? {
            return Ok(()); // another process answered it
        }
        if !conversations::save_in(&mut tx, &c, now).await? {
            tx.rollback().await?;
            continue;
        }
        let mut batch = Batch::default();
        outbox::queue(&mut batch, &c, &outputs, now)?;
        let customer_id = c.customer_id.as_deref();
        if !changed.is_empty() {
            let data = VariablesChanged {
                channel: c.channel.as_str(),
                conversation_id: &c.id,
                contact_id: c.channel.public_contact(&c.contact),
                customer_id,
                variables: &changed,
            };
            let kind = event::CONVERSATION_VARIABLES_CHANGED;
            events::push(&mut batch, &c.tenant, kind, &c.id, &data, now)?;
        }
        if handed {
            let data = Handoff {
                channel: c.channel.as_str(),
                conversation_id: &c.id,
                contact_id: c.channel.public_contact(&c.contact),
                customer_id,
                step: c.state.at.as_deref(),
                hold_id: c.state.vars.get("held").map(String::as_str),
                held_slot: c.state.vars.get("held_slot").map(String::as_str),
            };
            events::push(
                &mut batch,
                &c.tenant,
                event::CONVERSATION_HANDOFF,
                &c.id,
                &data,
                now,
            )?;
        }
        batch.run(&mut tx).await?;
        chat.db.commit_events(tx).await?;
        let _ = chat.said.send(c.id.clone());
        return Ok(());
    }
    Err(Error::conflict(
        "concurrent_change",
        "the conversation kept changing under this turn",
    ))
}

/// What the agenda knows about a person whose phone is proven (a WhatsApp number, a shared
/// Telegram contact), so the flow does not ask for it again.
async fn prefill(chat: &Chat, c: &mut Conversation) -> Result<()> {
    let Some(phone) = c.proven_phone() else {
        return Ok(());
    };
    let vars = &mut c.state.vars;
    vars.insert("customer.phone".into(), phone.as_str().to_string());
    vars.insert("customer.external_id".into(), c.contact.clone());
    for (k, v) in agenda::known_customer(&chat.db, &c.tenant, &phone).await? {
        vars.entry(k).or_insert(v);
    }
    Ok(())
}
