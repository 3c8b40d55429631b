//! Reading a flow document: every problem is collected and reported by its JSON path
//! (`steps.pick_day.next`), so a tenant fixes an imported flow in one round.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    Commands, CustomQuestion, Flow, Messages, OptionDef, Step, Validator, SCHEMA_VERSION,
};
use super::vars;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where, as a JSON path from the document's root (`steps.menu.options[1].next`).
    pub path: String,
    pub message: String,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The document with its steps still unread, so each step's errors are found on their own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    schema: u32,
    language: String,
    start: String,
    commands: Commands,
    messages: Messages,
    #[serde(default)]
    questions: Vec<CustomQuestion>,
    steps: BTreeMap<String, Value>,
}

fn serde_problem<E: std::fmt::Display>(prefix: &str, e: serde_path_to_error::Error<E>) -> Problem {
    let inner = e.path().to_string();
    let path = match (prefix.is_empty(), inner.as_str()) {
        (_, ".") if !prefix.is_empty() => prefix.to_string(),
        (true, _) => inner,
        (false, _) => format!("{prefix}.{inner}"),
    };
    Problem::new(path, e.inner().to_string())
}

/// Reads and checks a flow; on failure, every problem found.
pub fn parse(raw: &[u8]) -> Result<Flow, Vec<Problem>> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let head: RawFlow =
        serde_path_to_error::deserialize(&mut de).map_err(|e| vec![serde_problem("", e)])?;
    // Bytes after the document are refused like every other body's.
    de.end().map_err(|e| {
        vec![Problem::new(
            "".to_string(),
            format!("after the document: {e}"),
        )]
    })?;
    let mut problems = Vec::new();
    let mut steps = BTreeMap::new();
    for (id, value) in head.steps {
        let at = format!("steps.{id}");
        match serde_path_to_error::deserialize::<_, Step>(value) {
            Ok(step) => {
                steps.insert(id, step);
            }
            Err(e) => problems.push(serde_problem(&at, e)),
        }
    }
    let flow = Flow {
        schema: head.schema,
        language: head.language,
        start: head.start,
        commands: head.commands,
        messages: head.messages,
        questions: head.questions,
        steps,
    };
    check(&flow, &mut problems);
    if problems.is_empty() {
        Ok(flow)
    } else {
        Err(problems)
    }
}

fn check(flow: &Flow, problems: &mut Vec<Problem>) {
    let mut bad = |path: String, message: &str| problems.push(Problem::new(path, message));
    if flow.schema != SCHEMA_VERSION {
        bad("schema".into(), "must be 1");
    }
    if !["es", "pt", "en"].contains(&flow.language.as_str()) {
        bad("language".into(), "must be es, pt or en");
    }
    let exists = |name: &str| flow.steps.contains_key(name);
    if !exists(&flow.start) {
        bad("start".into(), "names no step");
    }
    let texts = [
        ("retry", &flow.messages.retry),
        ("canceled", &flow.messages.canceled),
        ("handoff", &flow.messages.handoff),
        ("slot_taken", &flow.messages.slot_taken),
        ("no_slots", &flow.messages.no_slots),
        ("earlier", &flow.messages.earlier),
        ("later", &flow.messages.later),
        ("any", &flow.messages.any),
        ("list_button", &flow.messages.list_button),
        ("yes", &flow.messages.yes),
        ("no", &flow.messages.no),
        ("failed", &flow.messages.failed),
    ];
    for (name, text) in texts {
        check_text(&format!("messages.{name}"), text, &mut bad);
    }
    let m = &flow.messages;
    for (name, text) in [
        ("media", &m.media),
        ("waiting", &m.waiting),
        ("welcome_back", &m.welcome_back),
        ("stale", &m.stale),
        ("wish_missed", &m.wish_missed),
        ("other_day", &m.other_day),
        ("which_day", &m.which_day),
    ] {
        if let Some(text) = text {
            check_text(&format!("messages.{name}"), text, &mut bad);
        }
    }
    for (i, intent) in flow.commands.intents.iter().enumerate() {
        let at = format!("commands.intents[{i}]");
        if !exists(&intent.next) {
            bad(format!("{at}.next"), "names no step");
        }
        if intent.words.iter().all(|w| w.trim().is_empty()) {
            bad(format!("{at}.words"), "needs at least one word");
        }
        for var in intent.set.keys() {
            if !vars::is_name(var) {
                bad(
                    format!("{at}.set.{var}"),
                    "must be a variable name like action",
                );
            }
        }
    }
    for (code, text) in &flow.messages.errors {
        check_text(&format!("messages.errors.{code}"), text, &mut bad);
    }
    for (name, words) in [
        ("menu", &flow.commands.menu),
        ("cancel", &flow.commands.cancel),
        ("agent", &flow.commands.agent),
    ] {
        if words.iter().all(|w| w.trim().is_empty()) {
            bad(format!("commands.{name}"), "needs at least one word");
        }
    }
    let mut keys = HashSet::new();
    for (i, q) in flow.questions.iter().enumerate() {
        let at = format!("questions[{i}]");
        if !vars::is_name(&q.key) || q.key.contains('.') {
            bad(
                format!("{at}.key"),
                "must be a lowercase name (a-z, 0-9, _)",
            );
        }
        if !keys.insert(q.key.as_str()) {
            bad(format!("{at}.key"), "is used by an earlier question");
        }
        check_text(&format!("{at}.text"), &q.text, &mut bad);
        check_options(&at, q.validator, &q.options, &exists, &mut bad);
    }
    for (id, step) in &flow.steps {
        let at = format!("steps.{id}");
        for (field, target) in step.targets() {
            if !exists(target) {
                bad(format!("{at}.{field}"), "names no step");
            }
        }
        match step {
            Step::Say { text, .. }
            | Step::ChooseService { text, .. }
            | Step::ChooseProfessional { text, .. }
            | Step::Confirm { text, .. }
            | Step::Book { text, .. }
            | Step::BookingAction { text, .. }
            | Step::Handoff { text } => check_text(&format!("{at}.text"), text, &mut bad),
            Step::Ask {
                text,
                save_to,
                validator,
                options,
                ..
            } => {
                check_text(&format!("{at}.text"), text, &mut bad);
                if !vars::is_name(save_to) {
                    bad(
                        format!("{at}.save_to"),
                        "must be a variable name like customer.name",
                    );
                }
                check_options(&at, *validator, options, &exists, &mut bad);
            }
            Step::OfferSlots {
                text,
                page_size,
                hold_minutes,
                ..
            } => {
                check_text(&format!("{at}.text"), text, &mut bad);
                // Two rows are kept for "earlier" and "later" within WhatsApp's ten.
                if !(1..=8).contains(page_size) {
                    bad(format!("{at}.page_size"), "must be between 1 and 8");
                }
                if !(1..=60).contains(hold_minutes) {
                    bad(format!("{at}.hold_minutes"), "must be between 1 and 60");
                }
            }
            Step::MyBookings { text, empty, .. } => {
                check_text(&format!("{at}.text"), text, &mut bad);
                check_text(&format!("{at}.empty"), empty, &mut bad);
            }
            Step::Set { var, value, .. } => {
                if !vars::is_name(var) {
                    bad(
                        format!("{at}.var"),
                        "must be a variable name like customer.name",
                    );
                }
                check_template(&format!("{at}.value"), value, &mut bad);
            }
            Step::Branch { var, cases, .. } => {
                if !vars::is_name(var) {
                    bad(
                        format!("{at}.var"),
                        "must be a variable name like customer.name",
                    );
                }
                for (i, c) in cases.iter().enumerate() {
                    if !exists(&c.next) {
                        bad(format!("{at}.cases[{i}].next"), "names no step");
                    }
                }
            }
            Step::Questions { .. } => {}
        }
    }
}

fn check_text(path: &str, text: &str, bad: &mut impl FnMut(String, &str)) {
    if text.trim().is_empty() {
        bad(path.to_string(), "must not be empty");
    }
    check_template(path, text, bad);
}

fn check_template(path: &str, text: &str, bad: &mut impl FnMut(String, &str)) {
    if let Err(e) = vars::check_template(text) {
        bad(path.to_string(), &format!("is not a valid template: {e}"));
    }
}

fn check_options(
    at: &str,
    validator: Validator,
    options: &[OptionDef],
    exists: &impl Fn(&str) -> bool,
    bad: &mut impl FnMut(String, &str),
) {
    if validator == Validator::Choice && options.is_empty() {
        bad(format!("{at}.options"), "a choice needs options");
    }
    if validator != Validator::Choice && !options.is_empty() {
        bad(format!("{at}.options"), "only a choice has options");
    }
    let mut ids = HashSet::new();
    for (i, o) in options.iter().enumerate() {
        if o.id.trim().is_empty() {
            bad(format!("{at}.options[{i}].id"), "must not be empty");
        } else if !ids.insert(o.id.as_str()) {
            bad(
                format!("{at}.options[{i}].id"),
                "is used by an earlier option",
            );
        }
        if o.title.trim().is_empty() {
            bad(format!("{at}.options[{i}].title"), "must not be empty");
        }
        if let Some(next) = &o.next {
            if !exists(next) {
                bad(format!("{at}.options[{i}].next"), "names no step");
            }
        }
    }
}
