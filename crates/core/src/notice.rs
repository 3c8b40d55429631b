//! The words of reminders and confirmations: what a message template may read about a
//! booking, the built-in texts in es / pt / en, and the replies to the patient's answer.
//! Templates are minijinja, like the flows' texts; they are checked when a rule is saved
//! against the names below, so a typo is refused then rather than sent to patients.

use std::collections::BTreeMap;

use crate::flow::labels;
use crate::flow::vars;

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
    vars::check_template(text)?;
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let sample = Facts {
        language: "es".into(),
        customer_name: "Ana Pérez".into(),
        ..Facts::default()
    };
    let mut ctx = serde_json::Map::new();
    for (k, v) in vars(&sample) {
        match k.split_once('.') {
            Some((a, b)) => {
                let entry = ctx
                    .entry(a.to_string())
                    .or_insert_with(|| serde_json::json!({}));
                entry[b] = serde_json::Value::String(v);
            }
            None => {
                ctx.insert(k, serde_json::Value::String(v));
            }
        }
    }
    env.render_str(text, serde_json::Value::Object(ctx))
        .map(|_| ())
        .map_err(|e| format!("{e} (names: {})", NAMES.join(", ")))
}

/// The built-in message when a rule gives none for the language.
pub fn default_message(language: &str, ask_confirmation: bool, follow_up: bool) -> &'static str {
    match (lang(language), ask_confirmation, follow_up) {
        ("pt", _, true) => "Olá {{ customer.first_name }}, obrigado pela visita a {{ clinic }}. Como foi seu atendimento de {{ service }}?",
        ("en", _, true) => "Hi {{ customer.first_name }}, thank you for visiting {{ clinic }}. How was your {{ service }}?",
        (_, _, true) => "Hola {{ customer.first_name }}, gracias por visitar {{ clinic }}. ¿Cómo fue tu atención de {{ service }}?",
        ("pt", true, _) => "Olá {{ customer.first_name }}! Lembrete da sua consulta de {{ service }} com {{ professional }} em {{ when }}. Você confirma?",
        ("en", true, _) => "Hi {{ customer.first_name }}! A reminder of your {{ service }} with {{ professional }} on {{ when }}. Will you come?",
        (_, true, _) => "¡Hola {{ customer.first_name }}! Te recordamos tu turno de {{ service }} con {{ professional }} el {{ when }}. ¿Confirmás tu asistencia?",
        ("pt", false, _) => "Olá {{ customer.first_name }}! Lembrete da sua consulta de {{ service }} com {{ professional }} em {{ when }}.",
        ("en", false, _) => "Hi {{ customer.first_name }}! A reminder of your {{ service }} with {{ professional }} on {{ when }}.",
        (_, false, _) => "¡Hola {{ customer.first_name }}! Te recordamos tu turno de {{ service }} con {{ professional }} el {{ when }}.",
    }
}

/// The mail's subject.
pub fn subject(f: &Facts, ask_confirmation: bool) -> String {
    let when = labels::when(&f.language, f.start, f.offset_seconds);
    match (lang(&f.language), ask_confirmation) {
        ("pt", true) => format!("Confirme sua consulta: {when}"),
        ("en", true) => format!("Please confirm your appointment: {when}"),
        (_, true) => format!("Confirmá tu turno: {when}"),
        ("pt", false) => format!("Sua consulta: {when}"),
        ("en", false) => format!("Your appointment: {when}"),
        (_, false) => format!("Tu turno: {when}"),
    }
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

    /// The button's title (at most 20 characters, WhatsApp's limit).
    pub fn title(self, language: &str) -> &'static str {
        match (lang(language), self) {
            ("pt", Answer::Confirm) => "Confirmar",
            ("pt", Answer::Cancel) => "Cancelar",
            ("pt", Answer::Person) => "Falar com alguém",
            ("en", Answer::Confirm) => "Confirm",
            ("en", Answer::Cancel) => "Cancel",
            ("en", Answer::Person) => "Talk to a person",
            (_, Answer::Confirm) => "Confirmar",
            (_, Answer::Cancel) => "Cancelar",
            (_, Answer::Person) => "Hablar con alguien",
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

/// A typed answer to a reminder that asked: "sí", "confirmo", "cancelar", "quiero hablar con
/// alguien"… Short messages only: a sentence about something else goes to the booking flow.
pub fn read_answer(text: &str) -> Option<Answer> {
    let folded = crate::chat::fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > 5 {
        return None;
    }
    let any = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if any(&[
        "cancelar",
        "cancelo",
        "cancela",
        "cancel",
        "cancelem",
        "cancele",
        "desmarcar",
    ]) {
        return Some(Answer::Cancel);
    }
    if any(&[
        "agente",
        "persona",
        "humano",
        "atendente",
        "pessoa",
        "person",
        "human",
        "agent",
        "alguien",
        "alguem",
        "someone",
    ]) {
        return Some(Answer::Person);
    }
    if any(&[
        "confirmo",
        "confirmar",
        "confirmado",
        "confirma",
        "confirm",
        "confirmed",
    ]) || crate::said::yes_or_no(text) == Some(true)
    {
        return Some(Answer::Confirm);
    }
    None
}

/// The question when a typed answer could be about several appointments.
pub fn which_one(language: &str) -> &'static str {
    match lang(language) {
        "pt" => "Qual consulta?",
        "en" => "Which appointment?",
        _ => "¿Cuál turno?",
    }
}

/// What the patient reads after answering.
pub fn reply(language: &str, answer: Answer, when: &str) -> String {
    match (lang(language), answer) {
        ("pt", Answer::Confirm) => format!("Obrigado! Sua consulta de {when} está confirmada."),
        ("pt", Answer::Cancel) => format!(
            "Pronto, cancelamos sua consulta de {when}. Se quiser marcar outro dia, é só escrever."
        ),
        ("pt", Answer::Person) => "Já avisei a equipe; alguém vai te responder por aqui.".into(),
        ("en", Answer::Confirm) => format!("Thank you! Your appointment on {when} is confirmed."),
        ("en", Answer::Cancel) => format!(
            "Done, your appointment on {when} is canceled. If you'd like another day, just write."
        ),
        ("en", Answer::Person) => "I've let the team know; someone will answer you here.".into(),
        (_, Answer::Confirm) => format!("¡Gracias! Tu turno del {when} quedó confirmado."),
        (_, Answer::Cancel) => {
            format!("Listo, cancelamos tu turno del {when}. Si querés otro día, escribinos.")
        }
        (_, Answer::Person) => "Ya le avisé al equipo; alguien te va a responder por acá.".into(),
    }
}

/// The reply when the answer cannot act (the appointment was already canceled, or it is
/// too late to cancel it here).
pub fn cannot(language: &str, detail: &str) -> String {
    match lang(language) {
        "pt" => {
            format!("Não consegui registrar sua resposta: {detail}. Fale com a clínica, por favor.")
        }
        "en" => format!("I couldn't record your answer: {detail}. Please contact the clinic."),
        _ => format!(
            "No pude registrar tu respuesta: {detail}. Comunicate con el consultorio, por favor."
        ),
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
        for l in ["es", "pt", "en"] {
            for ask in [true, false] {
                assert!(check(default_message(l, ask, false)).is_ok());
            }
            assert!(check(default_message(l, false, true)).is_ok());
        }
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
        let text = render(default_message("pt", true, false), &f);
        assert_eq!(
            text,
            "Olá Maria! Lembrete da sua consulta de Consulta com Dra. Gómez em seg 07/01 09:00. Você confirma?"
        );
    }

    #[test]
    fn short_typed_answers_are_read_in_each_language_and_long_sentences_are_not() {
        for (text, want) in [
            ("Sí", Some(Answer::Confirm)),
            ("confirmo!", Some(Answer::Confirm)),
            ("sim, confirmo", Some(Answer::Confirm)),
            ("yes", Some(Answer::Confirm)),
            ("Cancelar", Some(Answer::Cancel)),
            ("quero cancelar", Some(Answer::Cancel)),
            ("please cancel", Some(Answer::Cancel)),
            ("hablar con una persona", Some(Answer::Person)),
            ("atendente", Some(Answer::Person)),
            ("hola", None),
            ("quiero un turno para mi hija el martes a la tarde", None),
        ] {
            assert_eq!(read_answer(text), want, "{text}");
        }
    }

    #[test]
    fn a_button_payload_names_the_answer_and_the_plan() {
        assert_eq!(
            Answer::from_payload("CANCEL_APPT:ntf_12"),
            Some((Answer::Cancel, "ntf_12"))
        );
        assert_eq!(Answer::from_payload("CANCEL_APPT:"), None);
        assert_eq!(Answer::from_payload("slot:2030-01-01"), None);
        for a in Answer::ALL {
            for l in ["es", "pt", "en"] {
                assert!(a.title(l).chars().count() <= 20);
            }
        }
    }
}
