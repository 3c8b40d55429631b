//! The patient's answer to a confirmation, acted on through the agenda's own functions (the
//! same rules as a confirmation or a cancellation by the API): confirm → `confirmed`,
//! cancel → `canceled` (the slot is free at once), a person → nothing on the agenda (the
//! conversation is handed to staff by the chat). The answer is recorded once, with
//! `notification.answered`.

use turnero_core::booking::{Action, Status};
use turnero_core::ids::BookingId;
use turnero_core::notice::Answer;

use super::plans::{self, Plan};
use crate::agenda::bookings::{self, Booking};
use crate::db::Db;
use crate::error::Result;

pub enum Outcome {
    /// Acted on and recorded (or already so: a second tap of the same answer).
    Done(Box<Booking>),
    /// The agenda could not do it (too late to cancel, already canceled…): why, to tell the
    /// person.
    Refused(String),
}

pub async fn answer(
    db: &Db,
    plan: &Plan,
    answer: Answer,
    source: &str,
    now: i64,
) -> Result<Outcome> {
    let id = BookingId::from_trusted(plan.booking_id.clone());
    let booking = bookings::get(db, &plan.tenant, &id).await?;
    // A second tap of the same answer answers again; a cancel after a confirm is a change of
    // mind the agenda may still allow; anything else after an answer is refused.
    match plan.answer.as_deref() {
        Some(given) if given == answer.as_str() => return Ok(Outcome::Done(Box::new(booking))),
        Some("confirmed") if answer == Answer::Cancel => {}
        Some(given) => {
            return Ok(Outcome::Refused(format!(
                "this reminder was already answered ({given})"
            )))
        }
        None => {}
    }
    let action = match (answer, booking.status) {
        (Answer::Confirm, Status::Pending) => Some(Action::Confirm),
        (Answer::Confirm, Status::Confirmed) | (Answer::Person, _) => None,
        (Answer::Cancel, Status::Pending | Status::Confirmed) => Some(Action::Cancel),
        (Answer::Cancel, Status::Canceled) => None,
        (_, status) => {
            return Ok(Outcome::Refused(format!(
                "the appointment is {}",
                status.as_str()
            )))
        }
    };
    let booking = match action {
        Some(action) => {
            let reason = (action == Action::Cancel)
                .then(|| "canceled by the patient, answering a reminder".to_string());
            let changed =
                bookings::confirm_or_close(db, &plan.tenant, &id, action, reason, source, now);
            match changed.await {
                Ok(b) => b,
                Err(e) => match e.refusal() {
                    Ok(problem) => return Ok(Outcome::Refused(problem.detail)),
                    Err(internal) => return Err(internal.into()),
                },
            }
        }
        None => booking,
    };
    let mut tx = db.begin().await?;
    plans::answer_in(&mut tx, plan, answer, now).await?;
    db.commit_events(tx).await?;
    Ok(Outcome::Done(Box::new(booking)))
}
