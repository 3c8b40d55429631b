//! The bot's outputs as Cloud API message bodies, within WhatsApp's limits
//! (`../shared/reference/channels.md` §2.5): up to 3 reply buttons with titles of at most 20
//! characters; lists of at most 10 rows in at most 10 sections, row titles of at most 24; a
//! numbered text when neither fits, so a question is never cut short.

use std::collections::HashSet;

use serde_json::{json, Value};
use turnero_core::chat::{Output, Question};

/// Characters, as WhatsApp counts them.
fn fits(text: &str, max: usize) -> bool {
    let n = text.chars().count();
    n > 0 && n <= max
}

fn fits_opt(text: &Option<String>, max: usize) -> bool {
    text.as_deref().is_none_or(|t| fits(t, max))
}

/// Text bodies go up to 4,096 characters; longer ones go in several messages.
const TEXT_MAX: usize = 4096;

fn envelope(to: &str, reply_to: Option<&str>, kind: &str, content: Value) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
    });
    if let Some(id) = reply_to {
        body["context"] = json!({"message_id": id});
    }
    body[kind] = content;
    body
}

/// Pieces of at most `TEXT_MAX` characters; none for an empty text (Meta refuses it).
fn text_parts(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(TEXT_MAX)
        .map(|c| c.iter().collect::<String>())
        .filter(|p| !p.trim().is_empty())
        .collect()
}

fn common_fits(q: &Question) -> bool {
    fits(&q.body, 1024) && fits_opt(&q.header, 60) && fits_opt(&q.footer, 60)
}

fn unique<'a>(values: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = HashSet::new();
    values.into_iter().all(|v| seen.insert(v))
}

fn as_buttons(q: &Question) -> Option<Value> {
    let options: Vec<_> = q.options().collect();
    let ok = (1..=3).contains(&options.len())
        && common_fits(q)
        && options.iter().all(|c| {
            fits(&c.title, 20) && fits(&c.id, 256) && c.id.trim() == c.id && c.description.is_none()
        })
        && unique(options.iter().map(|c| c.title.as_str()))
        && unique(options.iter().map(|c| c.id.as_str()));
    if !ok {
        return None;
    }
    let buttons: Vec<Value> = options
        .iter()
        .map(|c| json!({"type": "reply", "reply": {"id": c.id, "title": c.title}}))
        .collect();
    Some(widget(q, "button", json!({"buttons": buttons})))
}

fn as_list(q: &Question) -> Option<Value> {
    let rows = q.options().count();
    let several = q.sections.len() > 1;
    let ok = (1..=10).contains(&rows)
        && q.sections.len() <= 10
        && common_fits(q)
        && fits(&q.button, 20)
        && q.sections.iter().all(|s| {
            (if several {
                s.title.as_deref().is_some_and(|t| fits(t, 24))
            } else {
                fits_opt(&s.title, 24)
            }) && s
                .options
                .iter()
                .all(|c| fits(&c.title, 24) && fits(&c.id, 200) && fits_opt(&c.description, 72))
        })
        && unique(q.options().map(|c| c.id.as_str()));
    if !ok {
        return None;
    }
    let sections: Vec<Value> = q
        .sections
        .iter()
        .filter(|s| !s.options.is_empty())
        .map(|s| {
            let rows: Vec<Value> = s
                .options
                .iter()
                .map(|c| {
                    let mut row = json!({"id": c.id, "title": c.title});
                    if let Some(d) = &c.description {
                        row["description"] = json!(d);
                    }
                    row
                })
                .collect();
            let mut section = json!({"rows": rows});
            if let Some(t) = &s.title {
                section["title"] = json!(t);
            }
            section
        })
        .collect();
    Some(widget(
        q,
        "list",
        json!({"button": q.button, "sections": sections}),
    ))
}

fn widget(q: &Question, kind: &str, action: Value) -> Value {
    let mut interactive = json!({"type": kind, "body": {"text": q.body}, "action": action});
    if let Some(h) = &q.header {
        interactive["header"] = json!({"type": "text", "text": h});
    }
    if let Some(f) = &q.footer {
        interactive["footer"] = json!({"text": f});
    }
    interactive
}

/// The request bodies for one output (a long text may take several), to `to` (the user's
/// number as WhatsApp gives it), optionally as a reply to one of their messages.
pub fn messages(to: &str, out: &Output, reply_to: Option<&str>) -> Vec<Value> {
    let text = |t: &str| {
        text_parts(t)
            .into_iter()
            .map(|part| {
                envelope(
                    to,
                    reply_to,
                    "text",
                    json!({"preview_url": false, "body": part}),
                )
            })
            .collect::<Vec<_>>()
    };
    match out {
        // The Cloud API cannot ask for a contact card: the question goes as text.
        Output::Text(t) | Output::AskContact(t) => text(t),
        Output::Mail(m) => text(&m.text),
        Output::Choose(q) => match as_buttons(q).or_else(|| as_list(q)) {
            Some(interactive) => vec![envelope(to, reply_to, "interactive", interactive)],
            None => text(&q.numbered_text()),
        },
        Output::HandOff => vec![],
        Output::Template(t) => {
            let mut template = json!({
                "name": t.name,
                "language": {"policy": "deterministic", "code": t.language},
            });
            if !t.parameters.is_empty() {
                let params: Vec<Value> = t
                    .parameters
                    .iter()
                    .map(|p| json!({"type": "text", "text": p}))
                    .collect();
                template["components"] = json!([{"type": "body", "parameters": params}]);
            }
            // Quick-reply buttons carry the payload that comes back when one is tapped.
            for (i, payload) in t.buttons.iter().enumerate() {
                let button = json!({"type": "button", "sub_type": "quick_reply",
                    "index": i.to_string(), "parameters": [{"type": "payload", "payload": payload}]});
                match template["components"].as_array_mut() {
                    Some(components) => components.push(button),
                    None => template["components"] = json!([button]),
                }
            }
            vec![envelope(to, reply_to, "template", template)]
        }
    }
}

#[cfg(test)]
mod tests {
    use turnero_core::chat::{Choice, Section};

    use super::*;
    use crate::channels::fixture;

    fn choice(id: &str, title: &str, description: Option<&str>) -> Choice {
        Choice {
            id: id.into(),
            title: title.into(),
            description: description.map(str::to_string),
        }
    }

    #[test]
    fn a_template_is_the_documented_template_body_with_its_quick_reply_payloads() {
        let mut template = turnero_core::chat::Template {
            name: "appointment_reminder".into(),
            language: "pt_BR".into(),
            parameters: vec!["Maria".into(), "seg, 04/05 às 10:00".into()],
            buttons: vec!["CONFIRM_APPT:BK-8812".into(), "CANCEL_APPT:BK-8812".into()],
        };
        let want = fixture("whatsapp_send_template.json");
        let out = Output::Template(template.clone());
        assert_eq!(
            messages("5511987654321", &out, None),
            std::slice::from_ref(&want)
        );
        // Staff messages press no buttons: the body alone.
        template.buttons.clear();
        let mut body_only = want;
        body_only["template"]["components"]
            .as_array_mut()
            .unwrap()
            .truncate(1);
        let out = Output::Template(template);
        assert_eq!(messages("5511987654321", &out, None), [body_only]);
    }

    #[test]
    fn a_text_is_the_documented_text_body() {
        let out = Output::Text("Olá Maria! Vamos agendar seu horário 😊".into());
        assert_eq!(
            messages("5511987654321", &out, None),
            [fixture("whatsapp_send_text.json")]
        );
    }

    #[test]
    fn three_short_options_become_reply_buttons() {
        let q = Question {
            header: Some("Confirmar agendamento".into()),
            body: "Corte com Ana\nSeg, 04/05 às 10:00 (45 min)\nPodemos confirmar?".into(),
            footer: Some("Studio Bella".into()),
            button: "Opções".into(),
            sections: vec![Section {
                title: None,
                options: vec![
                    choice("confirm:BK-8812", "Confirmar", None),
                    choice("change:BK-8812", "Outro horário", None),
                    choice("human:BK-8812", "Falar c/ atendente", None),
                ],
            }],
        };
        let reply_to = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBGMkE4QjlDMUQwRTNGNDU2AA==";
        assert_eq!(
            messages("5511987654321", &Output::Choose(q), Some(reply_to)),
            [fixture("whatsapp_send_interactive_buttons.json")]
        );
    }

    fn slots_question() -> Question {
        let row = |day: &str, time: &str, title: &str| {
            choice(
                &format!("slot:2026-05-{day}T{time}-03:00"),
                title,
                Some("Corte com Ana · 45 min"),
            )
        };
        Question {
            header: Some("Horários disponíveis".into()),
            body: "Escolha um horário para Corte com Ana:".into(),
            footer: Some("Horário de Brasília".into()),
            button: "Ver horários".into(),
            sections: vec![
                Section {
                    title: Some("Segunda 04/05".into()),
                    options: vec![
                        row("04", "10:00", "Seg 04/05 10:00"),
                        row("04", "11:00", "Seg 04/05 11:00"),
                    ],
                },
                Section {
                    title: Some("Terça 05/05".into()),
                    options: vec![
                        row("05", "09:30", "Ter 05/05 09:30"),
                        row("05", "14:00", "Ter 05/05 14:00"),
                    ],
                },
            ],
        }
    }

    #[test]
    fn slots_grouped_by_day_become_the_documented_list() {
        assert_eq!(
            messages("5511987654321", &Output::Choose(slots_question()), None),
            [fixture("whatsapp_send_interactive_list.json")]
        );
    }

    #[test]
    fn what_fits_neither_widget_becomes_numbered_text() {
        let mut q = slots_question();
        q.sections[1].options.extend((0..7).map(|i| {
            choice(
                &format!("slot:extra{i}"),
                &format!("Ter 05/05 1{i}:00"),
                None,
            )
        }));
        let sent = messages("5511987654321", &Output::Choose(q.clone()), None);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["type"], "text", "11 rows do not fit a list");
        assert!(sent[0]["text"]["body"]
            .as_str()
            .unwrap()
            .contains("\n11. Ter 05/05 16:00"));

        let mut long = slots_question();
        long.sections[0].options[0].title = "Segunda-feira 04/05 às 10:00".into();
        let sent = messages("5511987654321", &Output::Choose(long), None);
        assert_eq!(sent[0]["type"], "text", "a 28-character row title");

        let mut buttons = slots_question();
        buttons.sections.truncate(1);
        for c in &mut buttons.sections[0].options {
            c.description = None;
        }
        buttons.sections[0].options[0].title = "Segunda 04/05 às 10:00".into();
        let sent = messages("5511987654321", &Output::Choose(buttons), None);
        assert_eq!(
            sent[0]["interactive"]["type"], "list",
            "a 22-character title is too long for a button, fine for a row"
        );
    }

    #[test]
    fn a_text_over_4096_characters_goes_in_several_messages() {
        let long = "á".repeat(5000);
        let sent = messages("1", &Output::Text(long), None);
        assert_eq!(sent.len(), 2);
        assert_eq!(
            sent[0]["text"]["body"].as_str().unwrap().chars().count(),
            4096
        );
        assert!(messages("1", &Output::Text("  ".into()), None).is_empty());
    }
}
