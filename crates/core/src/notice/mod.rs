//! The words of reminders and confirmations: what a message template may read about a
//! booking, the built-in texts in es / pt / en, and the replies to the patient's answer.
//! Templates are minijinja, like the flows' texts; they are checked when a rule is saved
//! against the names below, so a typo is refused then rather than sent to patients.

use std::collections::BTreeMap;

use crate::flow::labels;
use crate::flow::vars;

mod words;
pub use words::{Problem, Words};

/// What a message is about, already in the patient's language and the calendar's local time.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub language: String,
    pub customer_name: String,
    pub clinic: String,
    pub professional: String,
    pub service: String,
    pub location: String,
    /// The booking's start, Unix seconds, and the calendar's UTC offset at that instant.
    pub start: i64,
    pub offset_seconds: i32,
    /// One-click links (mail only).
    pub confirm_link: String,
    pub cancel_link: String,
}

/// Every name a message template may use.
pub const NAMES: &[&str] = &[
    "customer.name",
    "customer.first_name",
    "clinic",
    "professional",
    "service",
    "location",
    "date",
    "time",
    "when",
    "links.confirm",
    "links.cancel",
];

/// The template's variables for these facts.
pub fn vars(f: &Facts) -> BTreeMap<String, String> {
    let first = f.customer_name.split_whitespace().next().unwrap_or("");
    let values = [
        f.customer_name.as_str(),
        first,
        &f.clinic,
        &f.professional,
        &f.service,
        &f.location,
        &labels::day(&f.language, f.start, f.offset_seconds),
        &labels::time(f.start, f.offset_seconds),
        &labels::when(&f.language, f.start, f.offset_seconds),
        &f.confirm_link,
        &f.cancel_link,
    ];
    NAMES
        .iter()
        .zip(values)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Renders a checked template.
pub fn render(text: &str, f: &Facts) -> String {
    vars::render(text, &vars(f))
}

/// Refuses a template that does not compile or reads a name that does not exist.
pub fn check(text: &str) -> Result<(), String> {
    check_names(text, NAMES)
}

/// Like [`check`], for a template that may read only `names` (dotted names nest).
pub fn check_names(text: &str, names: &[&str]) -> Result<(), String> {
    vars::check_template(text)?;
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let mut ctx = serde_json::Map::new();
    for k in names {
        let sample = serde_json::Value::String("x".into());
        match k.split_once('.') {
            Some((a, b)) => {
                let entry = ctx
                    .entry(a.to_string())
                    .or_insert_with(|| serde_json::json!({}));
                entry[b] = sample;
            }
            None => {
                ctx.insert(k.to_string(), sample);
            }
        }
    }
    env.render_str(text, serde_json::Value::Object(ctx))
        .map(|_| ())
        .map_err(|e| format!("{e} (names: {})", names.join(", ")))
}

/// The answers a confirmation offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Confirm,
    Cancel,
    Person,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::Confirm, Answer::Cancel, Answer::Person];

    /// The payload prefix of its button (as in Meta's template examples: `CONFIRM_APPT:…`).
    pub fn payload_prefix(self) -> &'static str {
        match self {
            Answer::Confirm => "CONFIRM_APPT:",
            Answer::Cancel => "CANCEL_APPT:",
            Answer::Person => "PERSON_APPT:",
        }
    }

    /// As stored and published: `confirmed`, `canceled`, `person`.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Confirm => "confirmed",
            Answer::Cancel => "canceled",
            Answer::Person => "person",
        }
    }

    /// `confirm`, `cancel` or `person`: how a rule names a template's buttons.
    pub fn from_name(name: &str) -> Option<Answer> {
        match name {
            "confirm" => Some(Answer::Confirm),
            "cancel" => Some(Answer::Cancel),
            "person" => Some(Answer::Person),
            _ => None,
        }
    }

    /// Reads a button's payload: the answer and the plan it answers.
    pub fn from_payload(payload: &str) -> Option<(Answer, &str)> {
        Answer::ALL.into_iter().find_map(|a| {
            payload
                .strip_prefix(a.payload_prefix())
                .filter(|rest| !rest.is_empty())
                .map(|rest| (a, rest))
        })
    }
}

/// `es`, `pt` or `en` from a locale (`pt-BR`, `es_AR`); Spanish otherwise.
pub fn lang(locale: &str) -> &'static str {
    match locale.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("pt") => "pt",
        Some("en") => "en",
        _ => "es",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_with_a_misspelled_name_is_refused_and_a_good_one_is_not() {
        assert!(check("Hola {{ customer.first_name }}, {{ when }}").is_ok());
        assert!(check("Hola {{ custmer.name }}").is_err());
        assert!(check("Hola {{ customer.name").is_err());
    }

    #[test]
    fn the_text_shows_the_calendars_local_time_in_the_patients_language() {
        let f = Facts {
            language: "pt".into(),
            customer_name: "Maria Silva".into(),
            professional: "Dra. Gómez".into(),
            service: "Consulta".into(),
            // 2030-01-07 12:00 UTC is 09:00 in São Paulo (-03:00), a Monday.
            start: 1_894_017_600,
            offset_seconds: -3 * 3600,
            ..Facts::default()
        };
        let words = Words::built_in("pt");
        let text = render(words.message(true, false), &f);
        assert_eq!(
            text,
            "Olá Maria! Lembrete da sua consulta de Consulta com Dra. Gómez em seg 07/01 09:00. Você confirma?"
        );
    }

    #[test]
    fn a_button_payload_names_the_answer_and_the_plan() {
        assert_eq!(
            Answer::from_payload("CANCEL_APPT:ntf_12"),
            Some((Answer::Cancel, "ntf_12"))
        );
        assert_eq!(Answer::from_payload("CANCEL_APPT:"), None);
        assert_eq!(Answer::from_payload("slot:2030-01-01"), None);
    }
}
