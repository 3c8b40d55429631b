//! Reminders and confirmations leave through the conversations' outboxes: a due plan row
//! (`notifications::plans`) becomes one outbox row on the rule's first channel that can reach
//! the customer, in one transaction that moves the plan row from `planned` to `queued` only if
//! it still is, so whatever process gets there first sends it and no other does. The
//! outbox's own sending (lease, retries, order) does the rest; its outcome comes back here:
//! accepted → `sent`; refused for good → the next channel, or `failed`.
//!
//! On WhatsApp a message outside the 24-hour window must be the rule's approved template
//! (its quick-reply buttons carry `CONFIRM_APPT:ntf_…`); inside it, reply buttons. The answer
//! comes back as a message whose reply id is that payload, and [`answer_in_turn`] acts on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use turnero_core::booking::Status;
use turnero_core::chat::{Choice, Mail, Output, Question, Section, Template};
use turnero_core::flow::labels;
use turnero_core::ids::{BookingId, CalendarId, ServiceId};
use turnero_core::notice::{self, Answer, Facts, Words};

use super::conversations::{self, Conversation};
use super::{outbox, Channel, Chat};
use crate::agenda::bookings::{self, Booking};
use crate::agenda::tenants::{self, Tenant};
use crate::agenda::{calendars, services};
use crate::db::{Batch, Tx};
use crate::error::{Error, Result};
use crate::notifications::plans::{self, Plan};
use crate::notifications::rules::{self, Rule, When};
use crate::notifications::settings::{self, QuietHours};
use crate::notifications::{ics, links, words};

/// The outbox rows of reminders are written `from` this, so the outbox knows to ask
/// [`still_wanted`] before sending one.
pub const FROM: &str = "reminder";

/// How many due rows one pass looks at.
pub const BATCH: i64 = 200;

/// Sends what is due: each row queued on a channel (or ended with its reason), then the
/// conversations it went to are sent. Answers how many rows this process queued.
pub async fn dispatch_due(chat: &Arc<Chat>) -> Result<usize> {
    let now = chat.clock.now_secs();
    let due = plans::due(&chat.db, now, BATCH).await?;
    let pass = Pass::default();
    // A few rows at a time: their reads overlap; the writes queue for the database. Collected
    // before anything else is awaited (a SQLite writer must never wait on an unpolled future).
    let done: Vec<(i64, Result<Option<String>>)> = futures_util::stream::iter(due)
        .map(|p| {
            let pass = &pass;
            async move { (p.id, dispatch_one(chat, pass, &p).await) }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut queued = 0;
    for (plan, outcome) in done {
        match outcome {
            Ok(Some(conversation)) => {
                queued += 1;
                let chat = chat.clone();
                tokio::spawn(async move {
                    if let Err(e) = chat.send_queued(&conversation).await {
                        tracing::warn!(error = ?e, "sending a reminder failed; the sweeper retries");
                    }
                });
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = ?e, plan, "a reminder could not be queued"),
        }
    }
    Ok(queued)
}

/// A tenant as a pass needs it: its name and locale, quiet hours, and confirmation words.
type TenantSide = (Tenant, Option<QuietHours>, Words);

/// What one pass reads once, however many of its rows share it.
#[derive(Default)]
struct Pass {
    rules: Mutex<HashMap<String, Option<Rule>>>,
    tenants: Mutex<HashMap<String, TenantSide>>,
    calendars: Mutex<HashMap<String, (String, Option<String>)>>,
    services: Mutex<HashMap<String, String>>,
    secrets: Mutex<HashMap<String, String>>,
}

/// The cached value, or `load`'s (never holding the lock across the load).
async fn cached<V: Clone>(
    map: &Mutex<HashMap<String, V>>,
    key: &str,
    load: impl std::future::Future<Output = Result<V>>,
) -> Result<V> {
    if let Some(v) = map.lock().expect("pass cache").get(key) {
        return Ok(v.clone());
    }
    let v = load.await?;
    map.lock()
        .expect("pass cache")
        .insert(key.to_string(), v.clone());
    Ok(v)
}

/// The conversation a message goes to: one that exists, or one opened in the queuing
/// transaction (a contact written to for the first time).
enum Reach {
    Known(Box<Conversation>),
    New { channel: Channel, contact: String },
}

/// What a channel can do for this row.
enum Fit {
    Ready(Box<(Reach, Output)>),
    /// Why not (`no_phone`, `no_template`…): the next channel is tried.
    Unfit(&'static str),
}

async fn dispatch_one(chat: &Chat, pass: &Pass, p: &Plan) -> Result<Option<String>> {
    let db = &chat.db;
    let now = chat.clock.now_secs();
    let rule = cached(&pass.rules, &p.rule_id, async {
        match rules::get(db, &p.tenant, &p.rule_id).await {
            Ok(r) => Ok(Some(r)),
            Err(Error::Problem(_)) => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await?;
    let Some(rule) = rule else {
        plans::end(db, p, "failed", "rule_deleted", now).await?;
        return Ok(None);
    };
    // A row back from a channel that refused it is late through no fault of its own.
    if p.tried.is_empty() && now - p.due_at > rule.def.grace_secs {
        plans::end(db, p, "missed", "missed", now).await?;
        return Ok(None);
    }
    let booking = bookings::get(
        db,
        &p.tenant,
        &BookingId::from_trusted(p.booking_id.clone()),
    )
    .await?;
    let timed = !matches!(rule.def.when, When::On(_));
    let follow_up = matches!(rule.def.when, When::AfterEnd { .. });
    let live = match booking.status {
        Status::Pending | Status::Confirmed => true,
        Status::Completed => follow_up,
        _ => false,
    };
    if timed && !live {
        plans::end(db, p, "skipped", "booking_closed", now).await?;
        return Ok(None);
    }
    let start = booking.start.as_second();
    // A reminder of an appointment that has begun helps nobody (a retry, a fallback, a
    // long grace): it ends here.
    if matches!(rule.def.when, When::BeforeStart { .. }) && now >= start {
        plans::end(db, p, "skipped", "started", now).await?;
        return Ok(None);
    }
    let (tenant, quiet, words) = cached(&pass.tenants, p.tenant.as_str(), async {
        let t = tenants::get(db, &p.tenant).await?;
        let quiet = settings::quiet_hours(db, &p.tenant).await?;
        Ok((t, quiet, words::get(db, &p.tenant).await?))
    })
    .await?;
    if let Some(quiet) = quiet {
        if let Some(until) = quiet.ends_after(now, &booking.zone) {
            let before_start = matches!(rule.def.when, When::BeforeStart { .. });
            if before_start && until >= start {
                plans::end(db, p, "skipped", "quiet_hours", now).await?;
            } else {
                plans::postpone(db, p, until, now).await?;
            }
            return Ok(None);
        }
    }
    let facts = facts(chat, pass, p, &booking, tenant, &words).await?;
    let mut unfit = Vec::new();
    for channel in rule.def.channels.iter().filter(|c| !p.tried.contains(c)) {
        let Ok(channel) = channel.parse::<Channel>() else {
            continue;
        };
        match fit(chat, p, &rule, &booking, (&facts, &words), channel, now).await? {
            Fit::Ready(ready) => {
                let (reach, output) = *ready;
                let mut tx = db.begin().await?;
                let conversation = match reach {
                    Reach::Known(c) => *c,
                    Reach::New { channel, contact } => {
                        let customer = booking.customer.as_ref().map(|c| c.id.as_str());
                        let (tenant, customer) = (&p.tenant, customer.unwrap_or_default());
                        conversations::open_in(&mut tx, tenant, channel, &contact, customer, now)
                            .await?
                    }
                };
                let mut batch = Batch::default();
                let ids = outbox::queue_from(&mut batch, &conversation, &[output], FROM, now)?;
                batch.run(&mut tx).await?;
                let (ch, cid) = (channel.as_str(), conversation.id.as_str());
                if !plans::queue_in(&mut tx, p, ch, cid, &ids[0], now).await? {
                    tx.rollback().await?; // another process queued it first
                    return Ok(None);
                }
                db.commit_events(tx).await?;
                return Ok(Some(conversation.id));
            }
            Fit::Unfit(why) => unfit.push(why),
        }
    }
    let reason = p
        .reason
        .clone()
        .or(unfit.first().map(|s| s.to_string()))
        .unwrap_or_else(|| "no_channel".into());
    plans::end(db, p, "failed", &reason, now).await?;
    Ok(None)
}

/// The booking as a message reads it, in the tenant's language and the calendar's time.
async fn facts(
    chat: &Chat,
    pass: &Pass,
    p: &Plan,
    b: &Booking,
    tenant: Tenant,
    words: &Words,
) -> Result<Facts> {
    let db = &chat.db;
    let (cal_name, location) = cached(&pass.calendars, &b.calendar_id, async {
        let id = CalendarId::from_trusted(b.calendar_id.clone());
        let cal = calendars::get(db, &p.tenant, &id).await?;
        Ok((cal.name, cal.location))
    })
    .await?;
    let service = cached(&pass.services, &b.service_id, async {
        let id = ServiceId::from_trusted(b.service_id.clone());
        Ok(services::get(db, &p.tenant, &id).await?.name)
    })
    .await?;
    let offset = b.zone.to_offset(b.start).seconds();
    let (confirm_link, cancel_link) = match chat.public_url.get() {
        Some(base) => {
            let now = chat.clock.now_secs();
            let secret = cached(&pass.secrets, p.tenant.as_str(), async {
                links::secret(db, &p.tenant, now).await
            })
            .await?;
            let url = format!("{base}/notices/{}", links::token(&secret, p.id));
            (
                format!("{url}?answer=confirm"),
                format!("{url}?answer=cancel"),
            )
        }
        None => (String::new(), String::new()),
    };
    Ok(Facts {
        language: words.language.clone(),
        customer_name: b
            .customer
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        clinic: tenant.name,
        professional: cal_name,
        service,
        location: location.unwrap_or_default(),
        start: b.start.as_second(),
        offset_seconds: offset,
        confirm_link,
        cancel_link,
    })
}

fn text_of(rule: &Rule, f: &Facts, words: &Words) -> String {
    let follow_up = matches!(rule.def.when, When::AfterEnd { .. });
    let template = match rule.def.messages.get(&f.language) {
        Some(t) => t.as_str(),
        None => words.message(rule.def.ask_confirmation, follow_up),
    };
    notice::render(template, f)
}

fn answer_buttons(p: &Plan, words: &Words, answers: &[Answer]) -> Vec<Choice> {
    answers
        .iter()
        .map(|a| Choice {
            id: format!("{}{}", a.payload_prefix(), p.public_id()),
            title: words.title(*a).to_string(),
            description: None,
        })
        .collect()
}

/// A free-form message: the text, with the answers as buttons when the rule asks.
fn free_form(rule: &Rule, p: &Plan, f: &Facts, words: &Words) -> Output {
    let text = text_of(rule, f, words);
    if !rule.def.ask_confirmation {
        return Output::Text(text);
    }
    Output::Choose(Question {
        body: text,
        button: words.title(Answer::Confirm).to_string(),
        sections: vec![Section {
            title: None,
            options: answer_buttons(p, words, &Answer::ALL),
        }],
        ..Question::default()
    })
}

#[allow(clippy::too_many_arguments)]
async fn fit(
    chat: &Chat,
    p: &Plan,
    rule: &Rule,
    b: &Booking,
    (f, words): (&Facts, &Words),
    channel: Channel,
    now: i64,
) -> Result<Fit> {
    let db = &chat.db;
    let customer = b.customer.as_ref();
    let customer_id = customer.map(|c| c.id.as_str()).unwrap_or_default();
    Ok(match channel {
        Channel::WhatsApp => {
            let Some(digits) = customer
                .and_then(|c| c.phone.as_deref())
                .map(|ph| ph.trim_start_matches('+').to_string())
            else {
                return Ok(Fit::Unfit("no_phone"));
            };
            let known = conversations::with_contact(db, &p.tenant, channel, &digits).await?;
            let open = known
                .as_ref()
                .and_then(|c| c.last_inbound_at)
                .is_some_and(|at| now - at < 24 * 3600);
            let output = if open {
                free_form(rule, p, f, words)
            } else {
                let Some(t) = &rule.def.whatsapp_template else {
                    return Ok(Fit::Unfit("no_template"));
                };
                Output::Template(Template {
                    name: t.name.clone(),
                    language: t.language.clone(),
                    parameters: t.parameters.iter().map(|x| notice::render(x, f)).collect(),
                    // The approved template's quick-reply buttons, in its order.
                    buttons: t
                        .buttons
                        .iter()
                        .filter_map(|b| Answer::from_name(b))
                        .map(|a| format!("{}{}", a.payload_prefix(), p.public_id()))
                        .collect(),
                })
            };
            let reach = match known {
                Some(c) => Reach::Known(Box::new(c)),
                None => Reach::New {
                    channel,
                    contact: digits,
                },
            };
            Fit::Ready(Box::new((reach, output)))
        }
        Channel::Email => {
            let Some(address) = customer.and_then(|c| c.email.clone()) else {
                return Ok(Fit::Unfit("no_email"));
            };
            let mut text = text_of(rule, f, words);
            let template = rule.def.messages.get(&f.language);
            let links_shown = template.is_some_and(|t| t.contains("links."));
            if rule.def.ask_confirmation && !links_shown && !f.confirm_link.is_empty() {
                text.push_str(&format!(
                    "\n\n{}: {}\n{}: {}",
                    words.title(Answer::Confirm),
                    f.confirm_link,
                    words.title(Answer::Cancel),
                    f.cancel_link
                ));
            }
            let follow_up = matches!(rule.def.when, When::AfterEnd { .. });
            let invite = (!follow_up).then(|| {
                ics::invitation(&ics::Invite {
                    booking_id: &b.id,
                    start: b.start.as_second(),
                    end: b.end.as_second(),
                    summary: &format!("{} · {}", f.service, f.professional),
                    location: (!f.location.is_empty()).then_some(f.location.as_str()),
                    description: &f.clinic,
                    canceled: b.status == Status::Canceled,
                    now,
                })
            });
            let mail = Mail {
                subject: words.subject(
                    rule.def.ask_confirmation,
                    &labels::when(&f.language, f.start, f.offset_seconds),
                ),
                text,
                ics: invite,
            };
            let reach = Reach::New {
                channel,
                contact: address,
            };
            Fit::Ready(Box::new((reach, Output::Mail(mail))))
        }
        // Channels whose contact is not a phone: the customer's own conversation there.
        Channel::Telegram | Channel::Chatwoot => {
            let phone = customer.and_then(|c| c.phone.as_deref());
            match conversations::latest_for_customer(db, &p.tenant, channel, customer_id, phone)
                .await?
            {
                Some(c) => Fit::Ready(Box::new((
                    Reach::Known(Box::new(c)),
                    free_form(rule, p, f, words),
                ))),
                None => Fit::Unfit("no_conversation"),
            }
        }
        Channel::WebChat => Fit::Unfit("no_conversation"),
    })
}

/// Whether a reminder's outbox row should still go: its plan row is still `queued` (a moved
/// or canceled booking withdrew it). The outbox marks a withdrawn row failed instead.
pub(super) async fn still_wanted(chat: &Chat, outbox_id: &str) -> Result<bool> {
    let state = plans::state_of_outbox(&chat.db, outbox_id).await?;
    Ok(state.is_none_or(|s| s == "queued"))
}

/// The outbox row was accepted by its channel: a reminder's plan row becomes `sent`.
pub(super) async fn on_sent(tx: &mut Tx, outbox_id: &str, now: i64) -> Result<()> {
    plans::sent_by_outbox_in(tx, outbox_id, now).await
}

/// The channel refused the outbox row for good: a reminder tries the rule's next channel.
pub(super) async fn on_refused(
    tx: &mut Tx,
    outbox_id: &str,
    channel: Channel,
    error: &str,
    now: i64,
) -> Result<()> {
    if let Some(p) = plans::by_outbox(tx, outbox_id).await? {
        plans::retry_elsewhere_in(tx, &p, channel.as_str(), error, now).await?;
    }
    Ok(())
}

/// The channel reported, after accepting it, that a message could not be delivered: a
/// reminder it carried goes on to the rule's next channel.
pub async fn on_failed_status(
    tx: &mut Tx,
    tenant: &turnero_core::ids::TenantId,
    external_id: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    let Some(outbox_id) =
        outbox::by_external_in(tx, tenant, Channel::WhatsApp, external_id).await?
    else {
        return Ok(());
    };
    if let Some(p) = plans::by_outbox(tx, &outbox_id).await? {
        if p.state == "sent" {
            plans::retry_elsewhere_in(tx, &p, Channel::WhatsApp.as_str(), reason, now).await?;
        }
    }
    Ok(())
}
