//! The agenda's replies: services or professionals to pick from, a page of slots, a hold,
//! a booking made or acted on, the customer's bookings, or a refusal said in the flow's
//! words.

use std::collections::BTreeMap;

use super::slots::SlotPage;
use super::{choice, item_choice, Run};
use crate::chat::Choice;
use crate::flow::model::Step;
use crate::flow::protocol::{Item, Reply};

impl Run<'_> {
    pub(super) fn reply(&mut self, reply: Reply) {
        let Some((_, step)) = self.current() else {
            return;
        };
        let step = step.clone();
        match (step, reply) {
            (_, Reply::Failed { code, detail }) => {
                self.state.vars.insert("error".into(), detail);
                let m = &self.flow.messages;
                let text = m.errors.get(&code).unwrap_or(&m.failed).clone();
                self.say(&text);
                self.finish();
            }
            (Step::Ask { next, .. }, Reply::Done(known)) => {
                // Identify: fill in only what the conversation does not know yet.
                for (k, v) in known {
                    self.state.vars.entry(k).or_insert(v);
                }
                self.go(next.as_deref());
            }
            (Step::ChooseService { text, .. }, Reply::Items(items)) => {
                self.pick_or_ask(&text, items, None)
            }
            (
                Step::ChooseProfessional {
                    text, allow_any, ..
                },
                Reply::Items(items),
            ) => {
                let any = (allow_any && items.len() > 1).then(|| self.flow.messages.any.clone());
                self.pick_or_ask(&text, items, any)
            }
            (
                Step::OfferSlots { text, .. },
                Reply::Slots {
                    slots,
                    has_earlier,
                    has_later,
                    missed,
                },
            ) => self.offer(
                &text,
                SlotPage {
                    slots,
                    earlier: has_earlier,
                    later: has_later,
                    missed,
                },
            ),
            (Step::OfferSlots { .. }, Reply::Items(days)) => self.offer_days(days),
            (Step::OfferSlots { .. }, Reply::Held { hold }) => {
                self.state.vars.insert("hold".into(), hold);
                self.after_offer()
            }
            (Step::OfferSlots { page_size, .. }, Reply::Taken) => {
                self.say(&self.flow.messages.slot_taken.clone());
                let r = self.slots(self.state.page.map(|p| p.0 - 1), None, page_size, None);
                self.need(r)
            }
            (Step::Book { text, next }, Reply::Done(vars))
            | (Step::BookingAction { text, next, .. }, Reply::Done(vars)) => {
                self.state.vars.extend(vars);
                self.state.vars.remove("hold");
                self.say(&text);
                self.go(next.as_deref())
            }
            (Step::Book { .. }, Reply::Taken) | (Step::BookingAction { .. }, Reply::Taken) => {
                self.back_to_offer()
            }
            (
                Step::MyBookings {
                    text,
                    empty,
                    empty_next,
                    ..
                },
                Reply::Items(items),
            ) => {
                if items.is_empty() {
                    self.say(&empty);
                    return self.go(empty_next.as_deref());
                }
                let vars: BTreeMap<&str, &BTreeMap<String, String>> =
                    items.iter().map(|i| (i.id.as_str(), &i.vars)).collect();
                let stash = serde_json::to_string(&vars).unwrap_or_default();
                self.state.vars.insert("_items".into(), stash);
                if items.len() == 1 && self.state.vars.contains_key("action") {
                    // "Quiero cancelar" with one booking: that one, without asking which.
                    let only = item_choice(items[0].clone());
                    if let Some((at, step)) = self.current() {
                        let (at, step) = (at.to_string(), step.clone());
                        return self.chosen(&at, &step, only);
                    }
                }
                let q = self.question(&text, items.into_iter().map(item_choice).collect());
                self.ask(q)
            }
            // A reply that does not fit the step (a flow changed under a stored state):
            // start over rather than guess.
            _ => {
                self.finish();
                self.enter(&self.flow.start.clone())
            }
        }
    }

    /// One option is picked without asking; several are asked for.
    fn pick_or_ask(&mut self, text: &str, items: Vec<Item>, any: Option<String>) {
        if items.is_empty() {
            self.say(&self.flow.messages.no_slots.clone());
            return self.finish();
        }
        if items.len() == 1 && any.is_none() {
            let only = item_choice(items.into_iter().next().expect("one item"));
            let (at, step) = match self.current() {
                Some((a, s)) => (a.to_string(), s.clone()),
                None => return,
            };
            return self.chosen(&at, &step, only);
        }
        let mut options: Vec<Choice> = items.into_iter().map(item_choice).collect();
        if let Some(any) = any {
            options.push(choice("any", &any));
        }
        let q = self.question(text, options);
        self.ask(q)
    }
}
