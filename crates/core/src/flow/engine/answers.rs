//! What the user says: a pick from the question on show, a command word (menu, cancel,
//! agent), or a typed answer read by the step's validator (`read_answer`). Also the custom
//! questions of a `questions` step, asked one at a time.

use std::collections::BTreeMap;

use super::{choice, choices, option_next, Run, WISH_VAR};
use crate::chat::{fold, has_phrase, Choice, Output};
use crate::flow::model::{Intent, Step, Validator};
use crate::flow::protocol::Request;
use crate::phone::{Region, E164};
use crate::said;
use crate::wish::{self, Wish};

/// Words (`flow.commands`) that mean the same at any point of a conversation, so they are
/// checked before a typed answer.
enum Command {
    Menu,
    Cancel,
    Agent,
}

impl Run<'_> {
    /// In order: a tap on an option (or one on an older message), a typed option, yes or no,
    /// a command, a task named in the person's words, a greeting, a time to book at, and
    /// last the question's own answer.
    pub(super) fn message(&mut self, text: &str, reply_id: Option<&str>) {
        if text.trim().is_empty() && reply_id.is_none() {
            // An image, a voice note, a sticker…: the bot reads text.
            self.say_builtin("media");
            return match self.current() {
                Some((_, step)) => {
                    let step = step.clone();
                    self.ask_again(&step)
                }
                None => self.enter(&self.flow.start.clone()),
            };
        }
        let Some((at, step)) = self.current() else {
            // A new run: asking for a person, or a task or a time named in the first message,
            // starts it at once.
            if let Some(Command::Agent) = self.command(text) {
                return self.obey(Command::Agent);
            }
            if let Some((intent, wish)) = self.intent_in(text, true) {
                return self.follow(intent, wish);
            }
            return self.enter(&self.flow.start.clone());
        };
        let (at, step) = (at.to_string(), step.clone());
        if let Some(id) = reply_id {
            let tapped = self
                .state
                .question
                .as_ref()
                .and_then(|q| q.options().find(|c| c.id == id).cloned());
            if let Some(choice) = tapped {
                return self.chosen(&at, &step, choice);
            }
            // A tap on an older message: a slot says which slot it is and is taken as
            // such; any other option is out of date.
            if let Step::OfferSlots {
                page_size,
                hold_minutes,
                ..
            } = step
            {
                if id.starts_with("slot:") {
                    self.state.question = None;
                    return self.slot_chosen(id, page_size, hold_minutes);
                }
            }
            if self.state.question.is_some() {
                self.say_builtin("stale");
                return self.ask_again(&step);
            }
        }
        let typed = self
            .state
            .question
            .as_ref()
            .and_then(|q| q.answer(text).cloned());
        if let Some(choice) = typed {
            return self.chosen(&at, &step, choice);
        }
        if let Step::Confirm { .. } = step {
            if let Some(yes) = said::yes_or_no(text) {
                let id = if yes { "yes" } else { "no" };
                return self.chosen(&at, &step, choice(id, id));
            }
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
        // At a slot list, a time ("mejor el jueves a las 10") asks for the slots near it.
        if let Step::OfferSlots { page_size, .. } = step {
            if let Some(wish) = wish::read(text, &self.flow.language) {
                self.state.question = None;
                let r = self.slots(None, None, page_size, Some(wish));
                return self.need(r);
            }
        }
        // Free text ("motivo de la consulta") is the person's answer, whatever its words.
        if !matches!(free, Some((Validator::Text, _))) {
            // A time alone ("el martes") means booking only where no free answer is
            // expected: "Domingo" may be a name.
            if let Some((intent, wish)) = self.intent_in(text, free.is_none()) {
                // "Quiero cancelar" at a question that offers to cancel: that option.
                if let Step::Ask {
                    save_to, options, ..
                } = &step
                {
                    let option = intent.set.get(save_to).and_then(|want| {
                        let q = self.state.question.as_ref()?;
                        q.options()
                            .find(|c| c.id.split('@').next() == Some(want))
                            .cloned()
                    });
                    if let (Some(c), true) = (option, !options.is_empty()) {
                        return self.chosen(&at, &step, c);
                    }
                }
                return self.follow(intent, wish);
            }
        }
        if said::is_greeting(text) {
            // At the first question the question itself greets; further on, say where we are.
            if at != self.flow.start {
                self.say_builtin("welcome_back");
            }
            return self.ask_again(&step);
        }
        if let Some((validator, var)) = free {
            if let Some(value) = read_answer(validator, text, self.region) {
                return self.answered(&at, &step, var, value);
            }
        }
        self.say(&self.flow.messages.retry.clone());
        self.ask_again(&step);
    }

    /// The task the person names (`commands.intents`, whole words anywhere in the text)
    /// and the time they said with it; with `time_alone`, a time said on its own names the
    /// booking task.
    fn intent_in(&self, text: &str, time_alone: bool) -> Option<(Intent, Option<Wish>)> {
        let said = fold(text);
        let words: Vec<&str> = said
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |phrase: &str| has_phrase(&words, phrase);
        let lang = &self.flow.language;
        let intents = &self.flow.commands.intents;
        if let Some(i) = intents.iter().find(|i| i.words.iter().any(|w| has(w))) {
            let wish = i.when.then(|| wish::read(text, lang)).flatten();
            return Some((i.clone(), wish));
        }
        if !time_alone {
            return None;
        }
        let wish = wish::read(text, lang)?;
        let booking = intents.iter().find(|i| i.when)?;
        Some((booking.clone(), Some(wish)))
    }

    /// Drops what was under way and starts the named task.
    fn follow(&mut self, intent: Intent, wish: Option<Wish>) {
        self.finish();
        self.state.vars.extend(intent.set);
        if let Some(w) = wish.and_then(|w| serde_json::to_string(&w).ok()) {
            self.state.vars.insert(WISH_VAR.into(), w);
        }
        self.enter(&intent.next)
    }

    fn command(&self, text: &str) -> Option<Command> {
        let said = fold(text);
        let is = |words: &[String]| words.iter().any(|w| fold(w) == said);
        let c = &self.flow.commands;
        // `/start` is what a chat app sends when a person opens (or restarts) a bot.
        let restart = text.split_whitespace().next() == Some("/start");
        if is(&c.menu) || restart {
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
        match command {
            Command::Menu => {
                self.finish();
                self.enter(&self.flow.start.clone())
            }
            Command::Cancel => {
                self.finish();
                self.say(&self.flow.messages.canceled.clone())
            }
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
        // `cancel@bkg_…` (see `about_booking`): the option is `cancel`.
        let c = match c.id.split_once('@') {
            Some((id, _)) => Choice {
                id: id.to_string(),
                ..c
            },
            None => c,
        };
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
                && !said::is_small_talk(&name)
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
