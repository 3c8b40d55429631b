//! The bot's outputs as Chatwoot message bodies (`POST …/conversations/{id}/messages`):
//! texts as `text`, questions as `input_select` when they fit what Chatwoot's WhatsApp inbox
//! turns them into (`../shared/reference/channels.md` §1.6: up to 3 items become reply
//! buttons of at most 20 characters, up to 10 a list of rows of at most 24; Chatwoot checks
//! neither), else a numbered text. Chatwoot drops the option's id and sends back only its
//! title, so titles must be unique: the inbound side maps a title back with [`options`].

use std::collections::HashSet;

use serde_json::{json, Value};
use turnero_core::chat::{Output, Question};

use crate::channels::{headed_options, question_text};

/// A message body as Chatwoot documents it.
fn message(content: &str, content_type: &str, attributes: Value) -> Value {
    json!({
        "content": content,
        "message_type": "outgoing",
        "private": false,
        "content_type": content_type,
        "content_attributes": attributes,
    })
}

/// The options as Chatwoot shows them, (title, id), when they fit: at most 10, unique
/// titles, each within WhatsApp's button or row limit.
pub fn options(q: &Question) -> Option<Vec<(String, String)>> {
    let items: Vec<(String, String)> = headed_options(q)
        .into_iter()
        .map(|(title, c)| (title, c.id.clone()))
        .collect();
    let max = if items.len() <= 3 { 20 } else { 24 };
    let mut seen = HashSet::new();
    let fits = (1..=10).contains(&items.len())
        && items.iter().all(|(t, _)| {
            let n = t.chars().count();
            n > 0 && n <= max && seen.insert(t.to_lowercase())
        });
    fits.then_some(items)
}

/// The bodies for one output. `HandOff` has none: the sender toggles the conversation.
pub fn messages(out: &Output) -> Vec<Value> {
    match out {
        Output::Text(t) | Output::AskContact(t) if !t.trim().is_empty() => {
            vec![message(t, "text", json!({}))]
        }
        Output::Text(_) | Output::AskContact(_) | Output::HandOff => vec![],
        Output::Mail(m) => vec![message(&m.text, "text", json!({}))],
        Output::Choose(q) => match options(q) {
            Some(items) => {
                let items: Vec<Value> = items
                    .into_iter()
                    .map(|(title, value)| json!({"title": title, "value": value}))
                    .collect();
                vec![message(
                    &question_text(q),
                    "input_select",
                    json!({"items": items}),
                )]
            }
            None => vec![message(&q.numbered_text(), "text", json!({}))],
        },
        Output::Template(t) => {
            let body: serde_json::Map<String, Value> = t
                .parameters
                .iter()
                .enumerate()
                .map(|(i, p)| ((i + 1).to_string(), json!(p)))
                .collect();
            vec![json!({
                "content": out.as_text(),
                "message_type": "outgoing",
                "template_params": {
                    "name": t.name,
                    "category": "UTILITY",
                    "language": t.language,
                    "processed_params": {"body": body},
                },
            })]
        }
    }
}

#[cfg(test)]
mod tests {
    use turnero_core::chat::{Choice, Section};

    use super::*;
    use crate::channels::fixture;

    fn choice(id: &str, title: &str) -> Choice {
        Choice {
            id: id.into(),
            title: title.into(),
            description: None,
        }
    }

    #[test]
    fn a_question_is_the_documented_input_select() {
        let q = Question {
            body: "Escolha um horário:".into(),
            sections: vec![Section {
                title: None,
                options: vec![
                    choice("slot:2026-05-04T10:00-03:00", "Seg 04/05 10:00"),
                    choice("slot:2026-05-04T11:00-03:00", "Seg 04/05 11:00"),
                    choice("slot:2026-05-05T09:30-03:00", "Ter 05/05 09:30"),
                ],
            }],
            ..Question::default()
        };
        let mut want = fixture("chatwoot_api_create_message_input_select_request.json");
        want["private"] = json!(false);
        assert_eq!(messages(&Output::Choose(q)), [want]);
    }

    #[test]
    fn a_text_is_the_documented_text_message() {
        let out = Output::Text(
            "Perfeito, Maria! Seu horário está confirmado para seg 04/05 às 10:00.".into(),
        );
        assert_eq!(
            messages(&out),
            [fixture("chatwoot_api_create_message_request.json")]
        );
    }

    #[test]
    fn titles_that_repeat_or_run_long_become_a_numbered_text() {
        let same = Question {
            body: "¿Cuál?".into(),
            sections: vec![Section {
                title: None,
                options: vec![choice("a", "09:00"), choice("b", "09:00")],
            }],
            ..Question::default()
        };
        let sent = messages(&Output::Choose(same));
        assert_eq!(sent[0]["content_type"], "text");
        assert!(sent[0]["content"].as_str().unwrap().contains("2. 09:00"));
        let days = Question {
            body: "¿Cuál?".into(),
            sections: vec![
                Section {
                    title: Some("lun 07/01".into()),
                    options: vec![choice("a", "09:00")],
                },
                Section {
                    title: Some("mar 08/01".into()),
                    options: vec![choice("b", "09:00")],
                },
            ],
            ..Question::default()
        };
        let sent = messages(&Output::Choose(days));
        assert_eq!(
            sent[0]["content_type"], "input_select",
            "the day tells them apart"
        );
        assert_eq!(
            sent[0]["content_attributes"]["items"][1]["title"],
            "mar 08/01 · 09:00"
        );
    }
}
