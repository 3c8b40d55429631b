//! The bot's outputs as Bot API `sendMessage` bodies (`../shared/reference/channels.md` §3):
//! a question's options as an inline keyboard (`callback_data` of at most 64 bytes), the
//! phone asked with a "share my number" keyboard, texts within 4,096 characters (longer ones
//! in several messages, the keyboard on the last).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use turnero_core::chat::{Output, Question};

use crate::channels::question_text;

/// Telegram counts a message's length in UTF-16 code units.
const TEXT_MAX: usize = 4096;

/// `callback_data` is at most 64 bytes.
const CALLBACK_MAX: usize = 64;

/// Options this short and this few share one keyboard row (yes / no); others get a row each.
const SHORT_TITLE: usize = 14;

/// Pieces of at most `TEXT_MAX` UTF-16 units; none for an empty text (Telegram refuses it).
pub fn text_parts(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut units = 0;
    for c in text.chars() {
        if units + c.len_utf16() > TEXT_MAX {
            parts.push(std::mem::take(&mut part));
            units = 0;
        }
        units += c.len_utf16();
        part.push(c);
    }
    parts.push(part);
    parts.retain(|p| !p.trim().is_empty());
    parts
}

/// What a button carries back: the option's id when it fits, else `#` and a digest of it,
/// which the inbound side looks up among the conversation's recent questions.
pub fn callback_data(id: &str) -> String {
    if id.len() <= CALLBACK_MAX && !id.starts_with('#') {
        return id.to_string();
    }
    format!("#{}", &hex::encode(Sha256::digest(id.as_bytes()))[..24])
}

/// The label of the button that shares the person's own contact.
fn share_label(language: &str) -> &'static str {
    match language {
        "pt" => "📱 Compartilhar meu número",
        "en" => "📱 Share my number",
        _ => "📱 Compartir mi número",
    }
}

fn keyboard(q: &Question) -> Value {
    let buttons: Vec<Value> = crate::channels::headed_options(q)
        .into_iter()
        .map(|(text, c)| json!({"text": text, "callback_data": callback_data(&c.id)}))
        .collect();
    let one_row = buttons.len() <= 3
        && buttons
            .iter()
            .all(|b| b["text"].as_str().unwrap_or("").chars().count() <= SHORT_TITLE);
    let rows: Vec<Value> = if one_row {
        vec![Value::Array(buttons)]
    } else {
        buttons.into_iter().map(|b| json!([b])).collect()
    };
    json!({"inline_keyboard": rows})
}

/// The `sendMessage` bodies for one output to the chat `chat_id`, in the conversation's
/// language (for the few labels the channel adds).
pub fn messages(chat_id: i64, out: &Output, language: &str) -> Vec<Value> {
    let with_markup = |text: String, markup: Value| -> Vec<Value> {
        let mut parts = text_parts(&text);
        let last = parts.pop();
        let mut bodies: Vec<Value> = parts
            .into_iter()
            .map(|p| json!({"chat_id": chat_id, "text": p}))
            .collect();
        if let Some(p) = last {
            bodies.push(json!({"chat_id": chat_id, "text": p, "reply_markup": markup}));
        }
        bodies
    };
    match out {
        // A text also takes away a "share my number" keyboard left from an earlier question.
        Output::Text(t) => with_markup(t.clone(), json!({"remove_keyboard": true})),
        Output::AskContact(t) => with_markup(
            t.clone(),
            json!({
                "keyboard": [[{"text": share_label(language), "request_contact": true}]],
                "resize_keyboard": true,
                "one_time_keyboard": true,
            }),
        ),
        Output::Choose(q) if q.options().next().is_some() => {
            with_markup(question_text(q), keyboard(q))
        }
        Output::Choose(q) => with_markup(question_text(q), json!({"remove_keyboard": true})),
        // Templates are WhatsApp's; should one reach Telegram, its words go as text.
        Output::Template(_) => with_markup(out.as_text(), json!({"remove_keyboard": true})),
        Output::HandOff => vec![],
        Output::Mail(m) => with_markup(m.text.clone(), json!({"remove_keyboard": true})),
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
    fn a_slot_question_is_the_documented_inline_keyboard() {
        let q = Question {
            body: "Escolha um horário:".into(),
            button: "Ver".into(),
            sections: vec![Section {
                title: None,
                options: vec![
                    choice("slot:2026-05-04T10:00-03:00", "Seg 04/05 10:00"),
                    choice("slot:2026-05-04T11:00-03:00", "Seg 04/05 11:00"),
                    choice("human", "Falar com atendente"),
                ],
            }],
            ..Question::default()
        };
        assert_eq!(
            messages(6123456789, &Output::Choose(q), "pt"),
            [fixture("telegram_send_message_inline_keyboard.json")]
        );
    }

    #[test]
    fn the_phone_is_asked_with_the_documented_share_my_number_keyboard() {
        let mut want = fixture("telegram_send_message_request_contact.json");
        want["reply_markup"]["keyboard"][0][0]["text"] = json!("📱 Compartilhar meu número");
        let out = Output::AskContact("Para agendar, compartilhe seu telefone:".into());
        assert_eq!(messages(6123456789, &out, "pt"), [want]);
    }

    #[test]
    fn yes_and_no_share_a_row_and_long_ids_are_digested_to_64_bytes() {
        let long = format!("cancel@{}", "x".repeat(80));
        let q = Question {
            body: "¿Confirmo?".into(),
            sections: vec![Section {
                title: None,
                options: vec![choice("yes", "Sí"), choice(&long, "No")],
            }],
            ..Question::default()
        };
        let sent = messages(1, &Output::Choose(q), "es");
        let rows = sent[0]["reply_markup"]["inline_keyboard"]
            .as_array()
            .unwrap();
        assert_eq!(rows.len(), 1, "two short options, one row");
        let data = rows[0][1]["callback_data"].as_str().unwrap();
        assert!(data.starts_with('#') && data.len() <= 64, "{data}");
        assert_eq!(data, callback_data(&long), "the same id, the same digest");
    }

    #[test]
    fn a_text_over_4096_utf16_units_goes_in_several_messages() {
        let long = "😀".repeat(3000); // two UTF-16 units each
        let sent = messages(1, &Output::Text(long), "es");
        assert_eq!(sent.len(), 2);
        let first = sent[0]["text"].as_str().unwrap();
        assert_eq!(first.encode_utf16().count(), 4096);
        assert!(sent[0].get("reply_markup").is_none());
        assert_eq!(sent[1]["reply_markup"]["remove_keyboard"], true);
        assert!(messages(1, &Output::Text("  ".into()), "es").is_empty());
    }
}
