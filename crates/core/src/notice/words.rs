//! The words of the confirm / cancel / talk-to-a-person conversation, as a document a clinic
//! exports, edits and imports like the booking flow (`GET/PUT /flows/confirmation`): the
//! reminder's default texts, the mail's subject, the buttons, the replies after an answer, and
//! the typed words read as each answer. Built in for es, pt and en. The conversation's steps
//! are fixed (a reminder asks, the answer acts on the agenda, the reply says so); its words
//! are the clinic's.

use serde::{Deserialize, Serialize};

use super::{check, check_names, Answer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    /// `es`, `pt` or `en`: dates read in it ("mar 08/01", "seg 07/01", "Tue 01/08").
    pub language: String,
    /// A rule's message where it gives none for this language.
    pub reminder: Reminder,
    /// Mail subjects (`{{ when }}`).
    pub subject: Subject,
    /// Button titles (at most 20 characters, WhatsApp's limit).
    pub buttons: Buttons,
    /// What the person reads after answering (`{{ when }}`; `{{ detail }}` in `cannot`).
    pub replies: Replies,
    /// Typed words read as each answer right after a reminder (besides a plain "yes").
    pub typed: Typed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub ask: String,
    pub plain: String,
    pub follow_up: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub ask: String,
    pub plain: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buttons {
    pub confirm: String,
    pub cancel: String,
    pub person: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replies {
    pub confirmed: String,
    pub canceled: String,
    pub person: String,
    pub cannot: String,
    pub which_one: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typed {
    pub confirm: Vec<String>,
    pub cancel: Vec<String>,
    pub person: Vec<String>,
}

/// A problem of an imported document, by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

fn s(v: &str) -> String {
    v.to_string()
}

fn list(v: &[&str]) -> Vec<String> {
    v.iter().map(|w| w.to_string()).collect()
}

impl Words {
    /// The built-in words for a language (`es` for anything not `pt` or `en`).
    pub fn built_in(language: &str) -> Words {
        match super::lang(language) {
            "pt" => Words {
                language: s("pt"),
                reminder: Reminder {
                    ask: s("Olá {{ customer.first_name }}! Lembrete da sua consulta de {{ service }} com {{ professional }} em {{ when }}. Você confirma?"),
                    plain: s("Olá {{ customer.first_name }}! Lembrete da sua consulta de {{ service }} com {{ professional }} em {{ when }}."),
                    follow_up: s("Olá {{ customer.first_name }}, obrigado pela visita a {{ clinic }}. Como foi seu atendimento de {{ service }}?"),
                },
                subject: Subject {
                    ask: s("Confirme sua consulta: {{ when }}"),
                    plain: s("Sua consulta: {{ when }}"),
                },
                buttons: Buttons {
                    confirm: s("Confirmar"),
                    cancel: s("Cancelar"),
                    person: s("Falar com alguém"),
                },
                replies: Replies {
                    confirmed: s("Obrigado! Sua consulta de {{ when }} está confirmada."),
                    canceled: s("Pronto, cancelamos sua consulta de {{ when }}. Se quiser marcar outro dia, é só escrever."),
                    person: s("Já avisei a equipe; alguém vai te responder por aqui."),
                    cannot: s("Não consegui registrar sua resposta: {{ detail }}. Fale com a clínica, por favor."),
                    which_one: s("Qual consulta?"),
                },
                typed: Typed {
                    confirm: list(&["confirmo", "confirmar", "confirmado", "confirma", "sim"]),
                    cancel: list(&["cancelar", "cancelo", "cancela", "cancelem", "desmarcar"]),
                    person: list(&["atendente", "pessoa", "humano", "alguem"]),
                },
            },
            "en" => Words {
                language: s("en"),
                reminder: Reminder {
                    ask: s("Hi {{ customer.first_name }}! A reminder of your {{ service }} with {{ professional }} on {{ when }}. Will you come?"),
                    plain: s("Hi {{ customer.first_name }}! A reminder of your {{ service }} with {{ professional }} on {{ when }}."),
                    follow_up: s("Hi {{ customer.first_name }}, thank you for visiting {{ clinic }}. How was your {{ service }}?"),
                },
                subject: Subject {
                    ask: s("Please confirm your appointment: {{ when }}"),
                    plain: s("Your appointment: {{ when }}"),
                },
                buttons: Buttons {
                    confirm: s("Confirm"),
                    cancel: s("Cancel"),
                    person: s("Talk to a person"),
                },
                replies: Replies {
                    confirmed: s("Thank you! Your appointment on {{ when }} is confirmed."),
                    canceled: s("Done, your appointment on {{ when }} is canceled. If you'd like another day, just write."),
                    person: s("I've let the team know; someone will answer you here."),
                    cannot: s("I couldn't record your answer: {{ detail }}. Please contact the clinic."),
                    which_one: s("Which appointment?"),
                },
                typed: Typed {
                    confirm: list(&["confirm", "confirmed", "yes"]),
                    cancel: list(&["cancel", "cancelled", "canceled"]),
                    person: list(&["person", "human", "agent", "someone"]),
                },
            },
            _ => Words {
                language: s("es"),
                reminder: Reminder {
                    ask: s("¡Hola {{ customer.first_name }}! Te recordamos tu turno de {{ service }} con {{ professional }} el {{ when }}. ¿Confirmás tu asistencia?"),
                    plain: s("¡Hola {{ customer.first_name }}! Te recordamos tu turno de {{ service }} con {{ professional }} el {{ when }}."),
                    follow_up: s("Hola {{ customer.first_name }}, gracias por visitar {{ clinic }}. ¿Cómo fue tu atención de {{ service }}?"),
                },
                subject: Subject {
                    ask: s("Confirmá tu turno: {{ when }}"),
                    plain: s("Tu turno: {{ when }}"),
                },
                buttons: Buttons {
                    confirm: s("Confirmar"),
                    cancel: s("Cancelar"),
                    person: s("Hablar con alguien"),
                },
                replies: Replies {
                    confirmed: s("¡Gracias! Tu turno del {{ when }} quedó confirmado."),
                    canceled: s("Listo, cancelamos tu turno del {{ when }}. Si querés otro día, escribinos."),
                    person: s("Ya le avisé al equipo; alguien te va a responder por acá."),
                    cannot: s("No pude registrar tu respuesta: {{ detail }}. Comunicate con el consultorio, por favor."),
                    which_one: s("¿Cuál turno?"),
                },
                typed: Typed {
                    confirm: list(&["confirmo", "confirmar", "confirmado", "confirma"]),
                    cancel: list(&["cancelar", "cancelo", "cancela", "cancele"]),
                    person: list(&["agente", "persona", "humano", "alguien", "recepcion"]),
                },
            },
        }
    }

    /// Every problem of the document, by path; none when it can be used.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut add = |path: &str, message: String| {
            out.push(Problem {
                path: path.to_string(),
                message,
            })
        };
        if !["es", "pt", "en"].contains(&self.language.as_str()) {
            add("language", "es, pt or en".into());
        }
        let texts = [
            ("reminder.ask", &self.reminder.ask),
            ("reminder.plain", &self.reminder.plain),
            ("reminder.follow_up", &self.reminder.follow_up),
        ];
        for (path, text) in texts {
            match check(text) {
                Err(e) => add(path, e),
                Ok(()) if text.trim().is_empty() || text.chars().count() > 1024 => {
                    add(path, "1 to 1,024 characters".into())
                }
                Ok(()) => {}
            }
        }
        let short = [
            ("subject.ask", &self.subject.ask, &["when"][..]),
            ("subject.plain", &self.subject.plain, &["when"][..]),
            ("replies.confirmed", &self.replies.confirmed, &["when"][..]),
            ("replies.canceled", &self.replies.canceled, &["when"][..]),
            ("replies.person", &self.replies.person, &[][..]),
            ("replies.cannot", &self.replies.cannot, &["detail"][..]),
            ("replies.which_one", &self.replies.which_one, &[][..]),
        ];
        for (path, text, names) in short {
            match check_names(text, names) {
                Err(e) => add(path, e),
                Ok(()) if text.trim().is_empty() || text.chars().count() > 1024 => {
                    add(path, "1 to 1,024 characters".into())
                }
                Ok(()) => {}
            }
        }
        for (path, title) in [
            ("buttons.confirm", &self.buttons.confirm),
            ("buttons.cancel", &self.buttons.cancel),
            ("buttons.person", &self.buttons.person),
        ] {
            if title.trim().is_empty() || title.chars().count() > 20 {
                add(path, "1 to 20 characters (WhatsApp's button limit)".into());
            }
        }
        for (path, words) in [
            ("typed.confirm", &self.typed.confirm),
            ("typed.cancel", &self.typed.cancel),
            ("typed.person", &self.typed.person),
        ] {
            for (i, w) in words.iter().enumerate() {
                if w.trim().is_empty() || w.contains(char::is_whitespace) || w.chars().count() > 40
                {
                    add(
                        &format!("{path}[{i}]"),
                        "one word of 1 to 40 characters".into(),
                    );
                }
            }
        }
        out
    }

    /// A rule's message where it gives none in this language.
    pub fn message(&self, ask_confirmation: bool, follow_up: bool) -> &str {
        match (follow_up, ask_confirmation) {
            (true, _) => &self.reminder.follow_up,
            (false, true) => &self.reminder.ask,
            (false, false) => &self.reminder.plain,
        }
    }

    /// The mail's subject.
    pub fn subject(&self, ask_confirmation: bool, when: &str) -> String {
        let text = if ask_confirmation {
            &self.subject.ask
        } else {
            &self.subject.plain
        };
        fill(text, &[("when", when)])
    }

    pub fn title(&self, answer: Answer) -> &str {
        match answer {
            Answer::Confirm => &self.buttons.confirm,
            Answer::Cancel => &self.buttons.cancel,
            Answer::Person => &self.buttons.person,
        }
    }

    /// What the person reads after answering.
    pub fn reply(&self, answer: Answer, when: &str) -> String {
        let text = match answer {
            Answer::Confirm => &self.replies.confirmed,
            Answer::Cancel => &self.replies.canceled,
            Answer::Person => &self.replies.person,
        };
        fill(text, &[("when", when)])
    }

    /// The reply when the answer cannot act (too late to cancel, already canceled…).
    pub fn cannot(&self, detail: &str) -> String {
        fill(&self.replies.cannot, &[("detail", detail)])
    }

    pub fn which_one(&self) -> &str {
        &self.replies.which_one
    }

    /// A short typed answer ("sí", "confirmo", "cancelar", "quiero hablar con alguien"); a
    /// longer sentence is the booking flow's.
    pub fn read(&self, text: &str) -> Option<Answer> {
        let folded = crate::chat::fold(text);
        let words: Vec<&str> = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() || words.len() > 5 {
            return None;
        }
        // "no confirmo", "não quero cancelar", "don't cancel": not an answer to act on.
        let negated = ["no", "nao", "not", "dont", "don", "nunca"];
        if words.iter().any(|w| negated.contains(w)) {
            return None;
        }
        let any = |list: &[String]| {
            words
                .iter()
                .any(|w| list.iter().any(|l| crate::chat::fold(l) == *w))
        };
        if any(&self.typed.cancel) {
            Some(Answer::Cancel)
        } else if any(&self.typed.person) {
            Some(Answer::Person)
        } else if any(&self.typed.confirm) || crate::said::yes_or_no(text) == Some(true) {
            Some(Answer::Confirm)
        } else {
            None
        }
    }
}

/// Renders a checked template with these values.
fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let vars = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    crate::flow::vars::render(text, &vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_words_are_valid_in_each_language_and_fit_whatsapp() {
        for l in ["es", "pt", "en"] {
            let w = Words::built_in(l);
            assert_eq!(w.problems(), vec![], "{l}");
            assert_eq!(w.language, l);
        }
    }

    #[test]
    fn an_edited_document_with_mistakes_names_each_by_path() {
        let mut w = Words::built_in("es");
        w.language = "fr".into();
        w.buttons.person = "Hablar con una persona del consultorio".into();
        w.replies.confirmed = "Listo {{ cuando }}".into();
        w.typed.cancel.push("no voy".into());
        let paths: Vec<String> = w.problems().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "language",
                "replies.confirmed",
                "buttons.person",
                "typed.cancel[4]"
            ]
        );
    }

    #[test]
    fn short_typed_answers_are_read_in_each_language_and_long_sentences_are_not() {
        let (es, pt, en) = (
            Words::built_in("es"),
            Words::built_in("pt"),
            Words::built_in("en"),
        );
        for (w, text, want) in [
            (&es, "Sí", Some(Answer::Confirm)),
            (&es, "confirmo!", Some(Answer::Confirm)),
            (&pt, "sim, confirmo", Some(Answer::Confirm)),
            (&en, "yes", Some(Answer::Confirm)),
            (&es, "Cancelar", Some(Answer::Cancel)),
            (&pt, "quero cancelar", Some(Answer::Cancel)),
            (&en, "please cancel", Some(Answer::Cancel)),
            (&es, "hablar con una persona", Some(Answer::Person)),
            (&pt, "atendente", Some(Answer::Person)),
            (&es, "hola", None),
            (&es, "no confirmo", None),
            (&pt, "não quero cancelar", None),
            (&en, "don't cancel", None),
            (
                &es,
                "quiero un turno para mi hija el martes a la tarde",
                None,
            ),
        ] {
            assert_eq!(w.read(text), want, "{text}");
        }
    }

    #[test]
    fn replies_fill_in_the_appointment_and_the_reason() {
        let es = Words::built_in("es");
        assert_eq!(
            es.reply(Answer::Confirm, "mar 08/01 10:00"),
            "¡Gracias! Tu turno del mar 08/01 10:00 quedó confirmado."
        );
        assert!(es.cannot("es tarde").contains("es tarde"));
        assert_eq!(
            es.subject(true, "mar 08/01 10:00"),
            "Confirmá tu turno: mar 08/01 10:00"
        );
    }
}
