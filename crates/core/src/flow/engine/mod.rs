//! The flow interpreter. One call handles one input (what the user said, or the answer to
//! something the engine asked its caller for) and returns what to say plus, at most, one
//! request for the agenda. The caller performs the request and calls again with the reply,
//! until no request is left; then it stores the state. No IO here, so every step kind is
//! tested without a database.
//!
//! This file owns the entry point (`step`), the run of one call (`Run`) and the small
//! helpers every part uses. The rest, by what moves the conversation on:
//! - `steps`: entering steps until one waits;
//! - `answers`: what the user says, and reading typed answers (`read_answer`);
//! - `slots`: offering slots and picking one;
//! - `replies`: what the agenda answers.
//!
//! The values exchanged with the caller live in `flow::protocol` and are re-exported here.

mod answers;
mod replies;
mod slots;
mod steps;

use std::collections::BTreeMap;

pub use super::protocol::{Input, Item, Progress, Reply, Request, SlotItem, State};
pub use answers::read_answer;

use super::labels;
use super::model::{Flow, OptionDef, Step, Validator};
use super::protocol::WAITED_VAR;
use super::vars::render;
use crate::chat::{Choice, Output, Question, Section};
use crate::phone::Region;

/// Variables kept when a conversation ends: what is known about the customer.
const KEPT_PREFIX: &str = "customer.";

/// When the person asked to come (a `wish::Wish` as JSON), until slots are offered.
const WISH_VAR: &str = "_wish";

/// Handles one input. `region` reads phones typed without a country code.
pub fn step(flow: &Flow, state: &mut State, input: Input, region: Option<Region>) -> Progress {
    let before = state.vars.clone();
    let mut run = Run {
        flow,
        state,
        p: Progress::default(),
        region,
    };
    match input {
        Input::Message { .. } if run.state.handoff => run.waiting(),
        Input::Message { text, reply_id } => run.message(&text, reply_id.as_deref()),
        Input::Reply(_) if run.state.handoff => {}
        Input::Reply(reply) => run.reply(reply),
    }
    let mut p = run.p;
    for (k, v) in &state.vars {
        if before.get(k) != Some(v) {
            p.changed.insert(k.clone(), Some(v.clone()));
        }
    }
    for k in before.keys() {
        if !state.vars.contains_key(k) {
            p.changed.insert(k.clone(), None);
        }
    }
    p
}

struct Run<'a> {
    flow: &'a Flow,
    state: &'a mut State,
    p: Progress,
    region: Option<Region>,
}

impl Run<'_> {
    fn say(&mut self, text: &str) {
        let t = render(text, &self.state.vars);
        self.p.outputs.push(Output::Text(t));
    }

    /// A free-text question; a phone question asks for the contact.
    fn prompt(&mut self, validator: Validator, text: &str) {
        let t = render(text, &self.state.vars);
        self.p.outputs.push(match validator {
            Validator::Phone => Output::AskContact(t),
            _ => Output::Text(t),
        });
    }

    fn current(&self) -> Option<(&str, &Step)> {
        let at = self.state.at.as_deref()?;
        self.flow
            .steps
            .get_key_value(at)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Hands the conversation to a person. The slot the person picked stays held for the
    /// staff who take over (`held`, `held_slot`), not let go as ending a run does.
    fn hand_off(&mut self) {
        let held = self.state.vars.remove("hold");
        let slot = self.state.vars.get("slot_text").cloned();
        self.finish();
        if let Some(hold) = held {
            self.state.vars.insert("held".into(), hold);
            self.state
                .vars
                .insert("held_slot".into(), slot.unwrap_or_default());
        }
        self.state.handoff = true;
        self.p.handoff = true;
    }

    /// A message while a person is to answer: acknowledged once, then left to them.
    fn waiting(&mut self) {
        if self.state.vars.contains_key(WAITED_VAR) {
            return;
        }
        self.say_builtin("waiting");
        self.state.vars.insert(WAITED_VAR.into(), "1".into());
    }

    /// A message a flow may leave out: its own text, else the built-in one.
    fn say_builtin(&mut self, key: &str) {
        let text = self.builtin(key);
        self.say(&text);
    }

    fn builtin(&self, key: &str) -> String {
        let m = &self.flow.messages;
        let own = match key {
            "media" => &m.media,
            "waiting" => &m.waiting,
            "welcome_back" => &m.welcome_back,
            "stale" => &m.stale,
            "wish_missed" => &m.wish_missed,
            "other_day" => &m.other_day,
            "which_day" => &m.which_day,
            _ => &None,
        };
        own.clone()
            .unwrap_or_else(|| labels::builtin(&self.flow.language, key).to_string())
    }

    /// Options of a question about the booking the conversation selected carry its id
    /// (`cancel@bkg_…`), so a tap on an older question about another booking is not taken
    /// for this one.
    fn about_booking(&self, options: Vec<Choice>) -> Vec<Choice> {
        let Some(booking) = self.state.vars.get("booking").filter(|b| !b.is_empty()) else {
            return options;
        };
        options
            .into_iter()
            .map(|c| Choice {
                id: format!("{}@{booking}", c.id),
                ..c
            })
            .collect()
    }

    /// Ends the conversation's current run; what is known about the customer stays.
    fn finish(&mut self) {
        if let Some(hold) = self.state.vars.get("hold") {
            self.p.release = Some(hold.clone());
        }
        self.state.at = None;
        self.state.question = None;
        self.state.page = None;
        self.state.offer_step = None;
        self.state.question_index = 0;
        self.state.vars.retain(|k, _| k.starts_with(KEPT_PREFIX));
    }

    fn go(&mut self, next: Option<&str>) {
        match next {
            Some(n) => self.enter(n),
            None => self.finish(),
        }
    }

    fn question(&self, text: &str, options: Vec<Choice>) -> Question {
        Question {
            body: render(text, &self.state.vars),
            button: self.flow.messages.list_button.clone(),
            sections: vec![Section {
                title: None,
                options,
            }],
            ..Question::default()
        }
    }

    fn ask(&mut self, q: Question) {
        self.p.outputs.push(Output::Choose(q.clone()));
        self.state.question = Some(q);
    }

    fn need(&mut self, r: Request) {
        self.p.need = Some(r);
    }

    fn var(&self, name: &str) -> String {
        self.state.vars.get(name).cloned().unwrap_or_default()
    }

    /// `customer.*` or `fields.*` variables, without the prefix.
    fn prefixed(&self, prefix: &str) -> BTreeMap<String, String> {
        self.state
            .vars
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
            .collect()
    }
}

fn choice(id: &str, title: &str) -> Choice {
    Choice {
        id: id.into(),
        title: title.into(),
        description: None,
    }
}

fn choices(options: &[OptionDef]) -> Vec<Choice> {
    options
        .iter()
        .map(|o| Choice {
            id: o.id.clone(),
            title: o.title.clone(),
            description: o.description.clone(),
        })
        .collect()
}

fn item_choice(i: Item) -> Choice {
    Choice {
        id: i.id,
        title: i.title,
        description: i.description,
    }
}

fn option_next(options: &[OptionDef], id: &str) -> Option<String> {
    options
        .iter()
        .find(|o| o.id == id)
        .and_then(|o| o.next.clone())
}
