//! What the booking bot says, before a channel shapes it: plain text, or a question with
//! options. Each channel renders these within its own limits (WhatsApp: reply buttons, a list,
//! or a numbered text when neither fits), and every channel accepts the same typed answers:
//! the option's number or its title, whatever the accents and the case.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "content", rename_all = "snake_case")]
pub enum Output {
    Text(String),
    Choose(Question),
    /// Asks for the person's phone number: a channel that can share a contact offers that
    /// (a phone field in the web chat); others show the text.
    AskContact(String),
    /// A message template approved with the channel (WhatsApp: the only thing that may be
    /// sent outside the 24-hour window).
    Template(Template),
    /// The conversation goes to the channel's own agents (Chatwoot: its status becomes
    /// `open`, into their queue), in order after what the bot said. Channels without agents of
    /// their own send nothing for it.
    HandOff,
    /// A mail (reminders and confirmations by email): channels that are not mail show its
    /// text.
    Mail(Mail),
}

/// A mail's parts, before the mail channel builds the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    /// An iCalendar invitation attached as `invite.ics`.
    #[serde(default)]
    pub ics: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    /// The template's language code as approved (`es_AR`, `pt_BR`).
    pub language: String,
    /// Values for the body's `{{1}}`, `{{2}}`…, in order.
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Payloads for the template's quick-reply buttons, in order (what comes back when one
    /// is tapped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
}

/// A question with options, optionally grouped (a day's slots under the day's name).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Question {
    pub header: Option<String>,
    pub body: String,
    pub footer: Option<String>,
    /// The label of the button that opens a list.
    pub button: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Section {
    pub title: Option<String>,
    pub options: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// What comes back when it is picked (`slot:2030-01-08T09:00-03:00`).
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

impl Output {
    /// The output as plain text: what a log, a transcript or a text-only format shows.
    pub fn as_text(&self) -> String {
        match self {
            Output::Text(t) | Output::AskContact(t) => t.clone(),
            Output::Choose(q) => q.numbered_text(),
            Output::Template(t) => format!("[{}] {}", t.name, t.parameters.join(" · ")),
            Output::HandOff => String::new(),
            Output::Mail(m) => format!("{}\n\n{}", m.subject, m.text),
        }
    }
}

impl Question {
    pub fn options(&self) -> impl Iterator<Item = &Choice> {
        self.sections.iter().flat_map(|s| s.options.iter())
    }

    /// The question as text with numbered options, for channels (or sizes) without widgets.
    pub fn numbered_text(&self) -> String {
        let mut out = String::new();
        if let Some(h) = &self.header {
            out.push_str(h);
            out.push_str("\n\n");
        }
        out.push_str(&self.body);
        let mut n = 0;
        for section in &self.sections {
            out.push('\n');
            if let Some(t) = &section.title {
                out.push('\n');
                out.push_str(t);
            }
            for c in &section.options {
                n += 1;
                out.push_str(&format!("\n{n}. {}", c.title));
                if let Some(d) = &c.description {
                    out.push_str(&format!(" ({d})"));
                }
            }
        }
        if let Some(f) = &self.footer {
            out.push_str("\n\n");
            out.push_str(f);
        }
        out
    }

    /// The option a typed answer means: its number (`2`, `2.`), its title, or its id (a
    /// button press), accents and case aside.
    pub fn answer(&self, typed: &str) -> Option<&Choice> {
        let typed = typed.trim();
        let number = typed.trim_end_matches(['.', ')']).trim();
        if let Ok(n) = number.parse::<usize>() {
            return n.checked_sub(1).and_then(|i| self.options().nth(i));
        }
        let want = fold(typed);
        self.options()
            .find(|c| c.id == typed)
            .or_else(|| self.options().find(|c| fold(&c.title) == want))
    }
}

/// Lowercase, without accents and with single spaces: `  Sí,  Confirmar ` → `si, confirmar`.
pub fn fold(text: &str) -> String {
    let plain: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `phrase` (folded, one or more words) stands as consecutive whole words in
/// `words` (already folded): "cancelar" in "quiero cancelar mi turno", not in "cancelarlo".
pub fn has_phrase<W: AsRef<str>>(words: &[W], phrase: &str) -> bool {
    let folded = fold(phrase);
    let p: Vec<&str> = folded.split(' ').collect();
    words
        .windows(p.len())
        .any(|win| win.iter().zip(&p).all(|(a, b)| a.as_ref() == *b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question() -> Question {
        let c = |id: &str, title: &str| Choice {
            id: id.into(),
            title: title.into(),
            description: None,
        };
        Question {
            body: "¿Qué querés hacer?".into(),
            button: "Opciones".into(),
            sections: vec![Section {
                title: None,
                options: vec![
                    c("book", "Sacar turno"),
                    c("mine", "Mis turnos"),
                    c("agent", "Hablar con atención"),
                ],
            }],
            ..Question::default()
        }
    }

    #[test]
    fn an_answer_is_read_by_number_title_or_id_whatever_the_accents() {
        let q = question();
        assert_eq!(q.answer("2").unwrap().id, "mine");
        assert_eq!(q.answer(" 3. ").unwrap().id, "agent");
        assert_eq!(q.answer("HABLAR CON ATENCIÓN").unwrap().id, "agent");
        assert_eq!(q.answer("sacar  turno").unwrap().id, "book");
        assert_eq!(q.answer("mine").unwrap().id, "mine");
        assert!(q.answer("4").is_none());
        assert!(q.answer("0").is_none());
        assert!(q.answer("otra cosa").is_none());
    }

    #[test]
    fn a_question_reads_as_numbered_text_when_a_channel_has_no_widgets() {
        assert_eq!(
            question().numbered_text(),
            "¿Qué querés hacer?\n\n1. Sacar turno\n2. Mis turnos\n3. Hablar con atención"
        );
    }

    #[test]
    fn folding_drops_accents_case_and_extra_spaces() {
        assert_eq!(fold("  Sí,  CONFIRMÁR  "), "si, confirmar");
        assert_eq!(fold("Ñandú"), "nandu");
    }
}
