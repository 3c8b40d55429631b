//! The flow interpreter. One call handles one input (what the user said, or the answer to
//! something the engine asked its caller for) and returns what to say plus, at most, one
//! request for the agenda. The caller performs the request and calls again with the reply,
//! until no request is left; then it stores the state. No IO here, so every step kind is
//! tested without a database.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::labels;
use super::model::{BookingAction, Flow, OptionDef, Step, Validator};
use super::vars::render;
use crate::chat::{fold, Choice, Output, Question, Section};
use crate::phone::{Region, E164};

/// Where a conversation is. Stored between messages (as JSON) by the caller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The step waiting for an answer or a reply; `None` when idle.
    pub at: Option<String>,
    pub vars: BTreeMap<String, String>,
    /// The question last put to the user: typed answers are read against its options.
    pub question: Option<Question>,
    /// Which of the flow's custom questions a `questions` step is asking.
    pub question_index: usize,
    /// First and last start of the slot page on show (for earlier / later).
    pub page: Option<(i64, i64)>,
    /// The last step that offered slots: where a taken slot leads back to.
    pub offer_step: Option<String>,
    /// Handed to a person: the bot says nothing until released.
    pub handoff: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// What the user wrote, and the id of the button or row they pressed, if any.
    Message {
        text: String,
        reply_id: Option<String>,
    },
    Reply(Reply),
}

/// Something only the agenda can answer. All ids are the agenda's own.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Services,
    Professionals {
        service: String,
    },
    /// A page of free starts after `after` (or before `before`), across every calendar
    /// offering the service when `calendar` is `None`. `booking` is the one being moved,
    /// whose own time does not count as taken.
    Slots {
        service: String,
        calendar: Option<String>,
        after: Option<i64>,
        before: Option<i64>,
        count: usize,
        booking: Option<String>,
    },
    Hold {
        calendar: String,
        service: String,
        start: i64,
        minutes: u32,
    },
    /// What the agenda knows about the customer with this phone (E.164).
    Identify {
        phone: String,
    },
    /// Books the held slot (or, the hold gone, the same start if still free) for the
    /// customer in `customer.*`, with `fields.*` as custom fields.
    Book {
        hold: Option<String>,
        calendar: String,
        service: String,
        start: i64,
        customer: BTreeMap<String, String>,
        fields: BTreeMap<String, String>,
    },
    /// The customer's upcoming bookings.
    MyBookings {
        customer: BTreeMap<String, String>,
    },
    Act {
        booking: String,
        action: BookingAction,
        /// The new start, when rescheduling.
        start: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Services, calendars or bookings to choose from.
    Items(Vec<Item>),
    Slots {
        slots: Vec<SlotItem>,
        has_earlier: bool,
        has_later: bool,
    },
    Held {
        hold: String,
    },
    /// Done; these variables are now known (`booking`, `booking_text`, `customer.name`…).
    Done(BTreeMap<String, String>),
    /// The slot was taken meanwhile.
    Taken,
    /// The agenda refused: its stable code (`cutoff_passed`) and its explanation. The person
    /// hears `messages.errors[code]`, or `messages.failed` with `{{ error }}`.
    Failed {
        code: String,
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// Variables set when it is picked (a booking brings its service and calendar).
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlotItem {
    pub calendar: String,
    pub calendar_name: String,
    pub start: i64,
    pub offset_seconds: i32,
}

/// What one call produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub outputs: Vec<Output>,
    pub need: Option<Request>,
    /// A hold to let go of (the user left the booking); nothing waits on it.
    pub release: Option<String>,
    /// The conversation was just handed to a person.
    pub handoff: bool,
    /// Variables whose value changed, with their new value (`None`: unset).
    pub changed: BTreeMap<String, Option<String>>,
}

/// Variables kept when a conversation ends: what is known about the customer.
const KEPT_PREFIX: &str = "customer.";

/// Handles one input. `region` reads phones typed without a country code.
pub fn step(flow: &Flow, state: &mut State, input: Input, region: Option<Region>) -> Progress {
    let before = state.vars.clone();
    let mut run = Run {
        flow,
        state,
        p: Progress::default(),
        region,
    };
    if !run.state.handoff {
        match input {
            Input::Message { text, reply_id } => run.message(&text, reply_id.as_deref()),
            Input::Reply(reply) => run.reply(reply),
        }
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

enum Command {
    Menu,
    Cancel,
    Agent,
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

    fn message(&mut self, text: &str, reply_id: Option<&str>) {
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
            if let Some(value) = validate(validator, text, self.region) {
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

    fn hand_off(&mut self) {
        self.state.handoff = true;
        self.p.handoff = true;
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

    /// Runs steps from `id` until one waits for the user or the agenda.
    fn enter(&mut self, id: &str) {
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
                    if self.state.vars.get(&save_to).is_some_and(|v| !v.is_empty()) {
                        match next {
                            Some(n) => id = n,
                            None => return self.finish(),
                        }
                        continue;
                    }
                    if validator == Validator::Choice {
                        let q = self.question(&text, choices(&options));
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
                    return self.need(self.slots(None, None, page_size));
                }
                Step::Confirm { text, .. } => {
                    let m = &self.flow.messages;
                    let options = vec![choice("yes", &m.yes.clone()), choice("no", &m.no.clone())];
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
                    self.finish();
                    return self.hand_off();
                }
            }
        }
        self.finish();
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

    fn slots(&self, after: Option<i64>, before: Option<i64>, count: u8) -> Request {
        let calendar = Some(self.var("calendar")).filter(|c| !c.is_empty() && c != "any");
        Request::Slots {
            service: self.var("service"),
            calendar,
            after,
            before,
            count: usize::from(count),
            booking: self.state.vars.get("rescheduling").cloned(),
        }
    }

    /// Asks the next custom question not yet answered; false when none is left.
    fn next_custom_question(&mut self) -> bool {
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

    fn chosen(&mut self, at: &str, step: &Step, c: Choice) {
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

    fn slot_chosen(&mut self, id: &str, page_size: u8, hold_minutes: u32) {
        let page = self.state.page;
        match id {
            "earlier" => {
                let r = self.slots(None, page.map(|p| p.0), page_size);
                return self.need(r);
            }
            "later" => {
                let r = self.slots(page.map(|p| p.1), None, page_size);
                return self.need(r);
            }
            _ => {}
        }
        let mut parts = id.splitn(4, ':');
        let (Some("slot"), Some(calendar), Some(start), Some(offset)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return self.enter(&self.state.at.clone().unwrap_or_default());
        };
        let start: i64 = start.parse().unwrap_or_default();
        let offset: i32 = offset.parse().unwrap_or_default();
        let lang = &self.flow.language;
        self.state.vars.insert("slot".into(), start.to_string());
        self.state
            .vars
            .insert("slot_text".into(), labels::when(lang, start, offset));
        // `calendar` keeps what the person chose ("any" included), so a slot taken meanwhile
        // is followed by every calendar's slots again; the slot's own calendar goes apart.
        self.state
            .vars
            .insert("slot_calendar".into(), calendar.into());
        if self.var("calendar") == "any" {
            let name = self.state.vars.get("_any_names").and_then(|names| {
                serde_json::from_str::<BTreeMap<String, String>>(names)
                    .ok()
                    .and_then(|m| m.get(calendar).cloned())
            });
            if let Some(name) = name {
                self.state.vars.insert("calendar_name".into(), name);
            }
        }
        if self.state.vars.contains_key("rescheduling") {
            // A booking being moved needs no hold: the move itself checks the slot.
            return self.after_offer();
        }
        if let Some(old) = self.state.vars.remove("hold") {
            self.p.release = Some(old);
        }
        self.need(Request::Hold {
            calendar: calendar.into(),
            service: self.var("service"),
            start,
            minutes: hold_minutes,
        })
    }

    fn after_offer(&mut self) {
        let next = match self.current() {
            Some((_, Step::OfferSlots { next, .. })) => next.clone(),
            _ => return self.finish(),
        };
        self.enter(&next)
    }

    fn back_to_offer(&mut self) {
        self.say(&self.flow.messages.slot_taken.clone());
        self.state.vars.remove("hold");
        match self.state.offer_step.clone() {
            Some(offer) => self.enter(&offer),
            None => self.finish(),
        }
    }

    fn reply(&mut self, reply: Reply) {
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
                },
            ) => self.offer(&text, slots, has_earlier, has_later),
            (Step::OfferSlots { .. }, Reply::Held { hold }) => {
                self.state.vars.insert("hold".into(), hold);
                self.after_offer()
            }
            (Step::OfferSlots { page_size, .. }, Reply::Taken) => {
                self.say(&self.flow.messages.slot_taken.clone());
                let r = self.slots(self.state.page.map(|p| p.0 - 1), None, page_size);
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

    fn offer(&mut self, text: &str, slots: Vec<SlotItem>, earlier: bool, later: bool) {
        if slots.is_empty() && !earlier && !later {
            self.say(&self.flow.messages.no_slots.clone());
            return self.finish();
        }
        let lang = self.flow.language.clone();
        let any = self.var("calendar") == "any";
        let mut sections: Vec<Section> = Vec::new();
        let mut names = BTreeMap::new();
        for s in &slots {
            let day = labels::day(&lang, s.start, s.offset_seconds);
            if sections.last().and_then(|x| x.title.as_deref()) != Some(day.as_str()) {
                sections.push(Section {
                    title: Some(day),
                    options: vec![],
                });
            }
            names.insert(s.calendar.clone(), s.calendar_name.clone());
            let c = Choice {
                id: format!("slot:{}:{}:{}", s.calendar, s.start, s.offset_seconds),
                title: labels::time(s.start, s.offset_seconds),
                description: any.then(|| s.calendar_name.clone()),
            };
            sections.last_mut().expect("pushed above").options.push(c);
        }
        if any {
            let names = serde_json::to_string(&names).unwrap_or_default();
            self.state.vars.insert("_any_names".into(), names);
        }
        let m = &self.flow.messages;
        let mut nav = Vec::new();
        if earlier {
            nav.push(choice("earlier", &m.earlier.clone()));
        }
        if later {
            nav.push(choice("later", &m.later.clone()));
        }
        if !nav.is_empty() {
            sections.push(Section {
                title: Some("···".into()),
                options: nav,
            });
        }
        self.state.page = match (slots.first(), slots.last()) {
            (Some(f), Some(l)) => Some((f.start, l.start)),
            _ => self.state.page,
        };
        let q = Question {
            body: render(text, &self.state.vars),
            button: self.flow.messages.list_button.clone(),
            sections,
            ..Question::default()
        };
        self.ask(q)
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

/// The value to store for a typed answer, or `None` when it does not pass.
pub fn validate(v: Validator, text: &str, region: Option<Region>) -> Option<String> {
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
