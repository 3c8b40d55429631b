//! What the user says: a pick from the question on show, a command word (menu, cancel,
//! agent), or a typed answer read by the step's validator (`read_answer`). Also the custom
//! questions of a `questions` step, asked one at a time.

use std::collections::BTreeMap;

use super::{choices, option_next, Run};
use crate::chat::{fold, Choice, Output};
use crate::flow::model::{Step, Validator};
use crate::flow::protocol::Request;
use crate::phone::{Region, E164};

/// Words (`flow.commands`) that mean the same at any point of a conversation, so they are
/// checked before a typed answer.
enum Command {
    Menu,
    Cancel,
    Agent,
}

impl Run<'_> {
    pub(super) fn message(&mut self, text: &str, reply_id: Option<&str>) {
        let Some((at, step)) = self.current() else {
            return self.enter(&self.flow.start.clone());
        };
        let (at, step) = (at.to_string(), step.clone());
        let picked = self.state.question.as_ref().and_then(|q| {
            reply_id
                .and_then(|id| q.options().find(|c| c.id == id))
                .or_else(|| q.answer(text))
                .cloned()
        });
        if let Some(choice) = picked {
            return self.chosen(&at, &step, choice);
        }
        if let Some(command) = self.command(text) {
            return self.obey(command);
        }
        let free = match &step {
            Step::Ask {
                validator, save_to, ..
            } if *validator != Validator::Choice => Some((*validator, save_to.clone())),
            Step::Questions { .. } => self
                .flow
                .questions
                .get(self.state.question_index)
                .filter(|q| q.validator != Validator::Choice)
                .map(|q| (q.validator, format!("fields.{}", q.key))),
            _ => None,
        };
        if let Some((validator, var)) = free {
            if let Some(value) = read_answer(validator, text, self.region) {
                return self.answered(&at, &step, var, value);
            }
        }
        self.say(&self.flow.messages.retry.clone());
        self.ask_again(&step);
    }

    fn command(&self, text: &str) -> Option<Command> {
        let said = fold(text);
        let is = |words: &[String]| words.iter().any(|w| fold(w) == said);
        let c = &self.flow.commands;
        if is(&c.menu) {
            Some(Command::Menu)
        } else if is(&c.cancel) {
            Some(Command::Cancel)
        } else if is(&c.agent) {
            Some(Command::Agent)
        } else {
            None
        }
    }

    fn obey(&mut self, command: Command) {
        self.finish();
        match command {
            Command::Menu => self.enter(&self.flow.start.clone()),
            Command::Cancel => self.say(&self.flow.messages.canceled.clone()),
            Command::Agent => {
                self.say(&self.flow.messages.handoff.clone());
                self.hand_off();
            }
        }
    }

    /// The question on show, again (after an answer that did not fit).
    fn ask_again(&mut self, step: &Step) {
        match (&self.state.question, step) {
            (Some(q), _) => self.p.outputs.push(Output::Choose(q.clone())),
            (
                None,
                Step::Ask {
                    text, validator, ..
                },
            ) => self.prompt(*validator, text),
            (None, Step::Questions { .. }) => {
                if let Some(q) = self.flow.questions.get(self.state.question_index) {
                    self.say(&q.text.clone());
                }
            }
            _ => {}
        }
    }

    /// Asks the next custom question not yet answered; false when none is left.
    pub(super) fn next_custom_question(&mut self) -> bool {
        while let Some(q) = self.flow.questions.get(self.state.question_index) {
            if self.state.vars.contains_key(&format!("fields.{}", q.key)) {
                self.state.question_index += 1;
                continue;
            }
            if q.validator == Validator::Choice {
                let question = self.question(&q.text, choices(&q.options));
                self.ask(question);
            } else {
                self.say(&q.text.clone());
            }
            return true;
        }
        self.state.question_index = 0;
        false
    }

    /// A free-text answer that passed its validator.
    fn answered(&mut self, at: &str, step: &Step, var: String, value: String) {
        let is_phone = var == "customer.phone";
        self.state.vars.insert(var, value.clone());
        match step {
            Step::Questions { .. } => {
                self.state.question_index += 1;
                self.enter(at)
            }
            // The agenda's answer (what it knows of that number) moves the step on.
            Step::Ask { .. } if is_phone => self.need(Request::Identify { phone: value }),
            Step::Ask { next, .. } => self.go(next.clone().as_deref()),
            _ => self.finish(),
        }
    }

    pub(super) fn chosen(&mut self, at: &str, step: &Step, c: Choice) {
        self.state.question = None;
        match step {
            Step::Ask {
                save_to,
                options,
                next,
                ..
            } => {
                self.state.vars.insert(save_to.clone(), c.id.clone());
                let target = option_next(options, &c.id).or(next.clone());
                self.go(target.as_deref());
            }
            Step::Questions { .. } => {
                let Some(q) = self.flow.questions.get(self.state.question_index) else {
                    return self.enter(at);
                };
                self.state
                    .vars
                    .insert(format!("fields.{}", q.key), c.title.clone());
                self.state.question_index += 1;
                self.enter(at)
            }
            Step::ChooseService { next, .. } => {
                self.state.vars.insert("service".into(), c.id);
                self.state.vars.insert("service_name".into(), c.title);
                self.enter(&next.clone())
            }
            Step::ChooseProfessional { next, .. } => {
                self.state.vars.insert("calendar".into(), c.id);
                self.state.vars.insert("calendar_name".into(), c.title);
                self.enter(&next.clone())
            }
            Step::OfferSlots {
                page_size,
                hold_minutes,
                ..
            } => self.slot_chosen(&c.id, *page_size, *hold_minutes),
            Step::Confirm { yes, no, .. } => {
                let target = if c.id == "yes" { yes } else { no };
                self.enter(&target.clone())
            }
            Step::MyBookings { next, .. } => {
                self.state.vars.insert("booking".into(), c.id.clone());
                if let Some(picked) = self.state.vars.remove("_items") {
                    let all: BTreeMap<String, BTreeMap<String, String>> =
                        serde_json::from_str(&picked).unwrap_or_default();
                    if let Some(vars) = all.get(&c.id) {
                        self.state.vars.extend(vars.clone());
                    }
                }
                self.enter(&next.clone())
            }
            _ => self.enter(at),
        }
    }
}

/// The value to store for an answer typed to a question with validator `v`, in the form
/// it is kept (a phone in E.164, an email lowercased, a date as `yyyy-mm-dd`), or `None`
/// when it does not pass. `region` reads phones typed without a country code.
pub fn read_answer(v: Validator, text: &str, region: Option<Region>) -> Option<String> {
    let t = text.trim();
    match v {
        Validator::Text | Validator::Choice => {
            (!t.is_empty() && t.chars().count() <= 500).then(|| t.to_string())
        }
        Validator::Name => {
            let name = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let letters = name.chars().filter(|c| c.is_alphabetic()).count();
            let ok = letters >= 2
                && name.chars().count() <= 80
                && name
                    .chars()
                    .all(|c| c.is_alphabetic() || " .'-".contains(c));
            ok.then_some(name)
        }
        Validator::Phone => E164::parse(t, region).ok().map(|p| p.as_str().to_string()),
        Validator::Email => {
            let (user, domain) = t.split_once('@')?;
            let ok = !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !t.chars().any(char::is_whitespace)
                && t.len() <= 254;
            ok.then(|| t.to_lowercase())
        }
        Validator::Date => {
            let iso = match t.split(['/', '-', '.']).collect::<Vec<_>>()[..] {
                [y, m, d] if y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}"),
                [d, m, y] if y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}"),
                _ => return None,
            };
            iso.parse::<jiff::civil::Date>().ok().map(|d| d.to_string())
        }
        Validator::DocumentId => {
            let id: String = t
                .chars()
                .filter(|c| !matches!(c, '.' | '-' | ' ' | '/'))
                .collect::<String>()
                .to_uppercase();
            ((3..=20).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric()))
                .then_some(id)
        }
    }
}
