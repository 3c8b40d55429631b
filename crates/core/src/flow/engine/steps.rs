//! Entering steps: each step kind does its part (says, sets, branches, asks, or asks the
//! agenda) and the run goes on to the next step until one has to wait for the user or for
//! the agenda's reply.

use super::{choice, choices, option_next, Run, KEPT_PREFIX, WISH_VAR};
use crate::flow::model::{BookingAction, Step, Validator};
use crate::flow::protocol::Request;
use crate::flow::vars::render;

impl Run<'_> {
    /// Runs steps from `id` until one waits for the user or the agenda.
    pub(super) fn enter(&mut self, id: &str) {
        let mut id = id.to_string();
        // Say / set / branch steps can form a loop in a bad flow; stop rather than spin.
        for _ in 0..64 {
            let Some(step) = self.flow.steps.get(&id).cloned() else {
                return self.finish();
            };
            self.state.at = Some(id.clone());
            self.state.question = None;
            match step {
                Step::Say { text, next } => {
                    self.say(&text);
                    match next {
                        Some(n) => id = n,
                        None => return self.finish(),
                    }
                }
                Step::Set { var, value, next } => {
                    let v = render(&value, &self.state.vars);
                    self.state.vars.insert(var, v);
                    id = next;
                }
                Step::Branch {
                    var,
                    cases,
                    default,
                } => {
                    let value = self.state.vars.get(&var).cloned().unwrap_or_default();
                    id = cases
                        .iter()
                        .find(|c| c.equals == value)
                        .map(|c| c.next.clone())
                        .unwrap_or(default);
                }
                Step::Ask {
                    text,
                    save_to,
                    validator,
                    options,
                    next,
                } => {
                    if let Some(known) = self.state.vars.get(&save_to).filter(|v| !v.is_empty()) {
                        // Known already (a phone from WhatsApp, an action the person named):
                        // on as if answered.
                        match option_next(&options, known).or(next) {
                            Some(n) => id = n,
                            None => return self.finish(),
                        }
                        continue;
                    }
                    if validator == Validator::Choice {
                        let q = self.question(&text, self.about_booking(choices(&options)));
                        return self.ask(q);
                    }
                    return self.prompt(validator, &text);
                }
                Step::Questions { next } => match self.next_custom_question() {
                    true => return,
                    false => id = next,
                },
                Step::ChooseService { .. } => return self.need(Request::Services),
                Step::ChooseProfessional { .. } => {
                    let service = self.var("service");
                    return self.need(Request::Professionals { service });
                }
                Step::OfferSlots { page_size, .. } => {
                    self.state.offer_step = Some(id.clone());
                    // The first page is the nearest to a time the person named, if any.
                    let wish = self
                        .state
                        .vars
                        .remove(WISH_VAR)
                        .and_then(|w| serde_json::from_str(&w).ok());
                    return self.need(self.slots(None, None, page_size, wish));
                }
                Step::Confirm { text, .. } => {
                    let m = &self.flow.messages;
                    let options = vec![choice("yes", &m.yes.clone()), choice("no", &m.no.clone())];
                    let options = self.about_booking(options);
                    let q = self.question(&text, options);
                    return self.ask(q);
                }
                Step::Book { .. } => {
                    let r = Request::Book {
                        hold: self.state.vars.get("hold").cloned(),
                        calendar: self.var("slot_calendar"),
                        service: self.var("service"),
                        start: self.var("slot").parse().unwrap_or_default(),
                        customer: self.prefixed(KEPT_PREFIX),
                        fields: self.prefixed("fields."),
                    };
                    return self.need(r);
                }
                Step::MyBookings { .. } => {
                    let customer = self.prefixed(KEPT_PREFIX);
                    return self.need(Request::MyBookings { customer });
                }
                Step::BookingAction { action, .. } => {
                    let start = match action {
                        BookingAction::Reschedule => self.var("slot").parse().ok(),
                        _ => None,
                    };
                    let booking = self.var("booking");
                    return self.need(Request::Act {
                        booking,
                        action,
                        start,
                    });
                }
                Step::Handoff { text } => {
                    self.say(&text);
                    return self.hand_off();
                }
            }
        }
        self.finish();
    }
}
