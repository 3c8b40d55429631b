//! The patient's answer to a reminder, inside a turn: a button's payload (`CONFIRM_APPT:ntf_N`
//! on WhatsApp templates and reply buttons, Telegram buttons), or a short typed answer right
//! after a reminder asked. Acted on through `notifications::answers`; with several
//! appointments asked about, the bot asks which one.

use turnero_core::chat::{Choice, Output, Question, Section};
use turnero_core::ids::BookingId;
use turnero_core::notice::{Answer, Words};

use super::conversations::Conversation;
use super::{outbox, Chat};
use crate::agenda::bookings;
use crate::error::{Error, Result};
use crate::notifications::plans::{self, Plan};
use crate::notifications::{answers, words};

/// How long after a reminder a typed answer is still read as answering it.
const TYPED_ANSWER_SECS: i64 = 3 * 86_400;

/// Whether an output asked a reminder's question (its buttons carry `…_APPT:` payloads).
fn asked(output: &Output) -> bool {
    let is_answer = |id: &str| Answer::from_payload(id).is_some();
    match output {
        Output::Template(t) => t.buttons.iter().any(|b| is_answer(b)),
        Output::Choose(q) => q.options().any(|o| is_answer(&o.id)),
        _ => false,
    }
}

/// If the message answers a reminder (a button's payload, or a short typed answer right
/// after one), acts on it and answers what the person reads and whether the conversation
/// goes to a person. A typed answer that could be about several appointments asks which.
pub(super) async fn answer_in_turn(
    chat: &Chat,
    c: &Conversation,
    reply_id: Option<&str>,
    text: &str,
    now: i64,
) -> Result<Option<(Vec<Output>, bool)>> {
    let db = &chat.db;
    let (answer, plan, words) = match reply_id.and_then(Answer::from_payload) {
        Some((answer, id)) => {
            let Some(id) = plans::parse_id(id) else {
                return Ok(None);
            };
            let words = words::get(db, &c.tenant).await?;
            match plans::get(db, &c.tenant, id).await {
                // Only the conversation the reminder went to may answer it.
                Ok(p) if p.conversation_id.as_deref() == Some(c.id.as_str()) => (answer, p, words),
                Ok(_) | Err(Error::Problem(_)) => {
                    let text = words.cannot("unknown reminder");
                    return Ok(Some((vec![Output::Text(text)], false)));
                }
                Err(e) => return Err(e),
            }
        }
        None => {
            // Most messages stop here: a tap on something else, or more than a few words.
            let words_said = text.split_whitespace().count();
            if reply_id.is_some() || !(1..=5).contains(&words_said) {
                return Ok(None);
            }
            // Only right after the reminder asked: otherwise "sí" belongs to the booking flow.
            let last = outbox::recent(db, &c.id, 1).await?;
            if !last.first().is_some_and(asked) {
                return Ok(None);
            }
            let words = words::get(db, &c.tenant).await?;
            let Some(answer) = words.read(text) else {
                return Ok(None);
            };
            let since = now - TYPED_ANSWER_SECS;
            let mut open = plans::open_questions(db, &c.tenant, &c.id, since).await?;
            match open.len() {
                0 => return Ok(None),
                1 => (answer, open.remove(0), words),
                _ => {
                    let which = which_one(chat, &open, answer, &words).await?;
                    return Ok(Some((vec![which], false)));
                }
            }
        }
    };
    let text = match answers::answer(db, &plan, answer, c.channel.as_str(), now).await? {
        answers::Outcome::Done(b) => words.reply(answer, &b.when(&words.language)),
        answers::Outcome::Refused(detail) => words.cannot(&detail),
    };
    Ok(Some((vec![Output::Text(text)], answer == Answer::Person)))
}

/// "Which appointment?" with one option per open reminder, each carrying the answer given.
async fn which_one(chat: &Chat, open: &[Plan], answer: Answer, words: &Words) -> Result<Output> {
    let mut options = Vec::with_capacity(open.len());
    for p in open {
        let id = BookingId::from_trusted(p.booking_id.clone());
        let b = bookings::get(&chat.db, &p.tenant, &id).await?;
        options.push(Choice {
            id: format!("{}{}", answer.payload_prefix(), p.public_id()),
            title: b.when(&words.language),
            description: None,
        });
    }
    Ok(Output::Choose(Question {
        body: words.which_one().to_string(),
        button: words.which_one().chars().take(20).collect(),
        sections: vec![Section {
            title: None,
            options,
        }],
        ..Question::default()
    }))
}
