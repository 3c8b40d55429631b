//! Short things people say that are not answers to the question on show: yes and no in
//! their many forms, greetings, thanks. Matched on the folded text (lowercase, no accents),
//! so the lists are written without accents.

use crate::chat::fold;

const YES: &[&str] = &[
    "si",
    "s",
    "yes",
    "y",
    "sim",
    "dale",
    "ok",
    "okay",
    "okey",
    "oka",
    "👍",
    "👌",
    "✅",
    "claro",
    "claro que si",
    "por supuesto",
    "de acuerdo",
    "perfecto",
    "confirmo",
    "bueno",
    "esta bien",
    "va",
    "listo",
    "pode ser",
    "pode",
    "isso",
    "certo",
    "beleza",
    "com certeza",
    "sure",
    "yep",
    "yeah",
    "yup",
    "correct",
    "confirm",
    "of course",
    "fine",
    "si, confirmo",
    "si por favor",
    "sim, confirmo",
    "yes please",
];

const NO: &[&str] = &[
    "no",
    "n",
    "nop",
    "nope",
    "nah",
    "nao",
    "👎",
    "❌",
    "mejor no",
    "no gracias",
    "melhor nao",
    "nao obrigado",
    "no thanks",
    "not really",
];

const GREETINGS: &[&str] = &[
    "hola",
    "holaa",
    "buenas",
    "buen dia",
    "buenos dias",
    "buenas tardes",
    "buenas noches",
    "oi",
    "ola",
    "bom dia",
    "boa tarde",
    "boa noite",
    "hello",
    "hi",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
];

const THANKS: &[&str] = &[
    "gracias",
    "muchas gracias",
    "obrigado",
    "obrigada",
    "valeu",
    "thanks",
    "thank you",
    "ty",
    "genial",
    "chau",
    "adios",
    "tchau",
    "bye",
];

fn folded_in(text: &str, words: &[&str]) -> bool {
    let said = fold(text);
    let said = said.trim_matches(|c: char| ".,;!¡?¿ ".contains(c));
    words.iter().any(|w| fold(w) == said)
}

/// `Some(true)` for a yes ("dale", "pode ser", "👍"), `Some(false)` for a no.
pub fn yes_or_no(text: &str) -> Option<bool> {
    if folded_in(text, YES) {
        Some(true)
    } else if folded_in(text, NO) {
        Some(false)
    } else {
        None
    }
}

/// "hola", "bom dia", "hi"… possibly with the bot's name or punctuation around.
pub fn is_greeting(text: &str) -> bool {
    folded_in(text, GREETINGS)
}

/// Words that answer no question: greetings, thanks, yes or no. Never a person's name.
pub fn is_small_talk(text: &str) -> bool {
    is_greeting(text) || folded_in(text, THANKS) || yes_or_no(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_are_read_in_every_form_people_use() {
        for yes in [
            "Sí", "si!", "dale", "OK", "👍", "claro", "Pode ser", "sure", "Sim",
        ] {
            assert_eq!(yes_or_no(yes), Some(true), "{yes}");
        }
        for no in ["no", "Não", "nope", "mejor no"] {
            assert_eq!(yes_or_no(no), Some(false), "{no}");
        }
        for neither in ["Ana", "mañana", "quiero cancelar", "10"] {
            assert_eq!(yes_or_no(neither), None, "{neither}");
        }
    }

    #[test]
    fn greetings_thanks_and_yes_are_small_talk_but_names_are_not() {
        for t in ["hola", "Hola!", "bom dia", "Hi", "gracias", "sí", "ok"] {
            assert!(is_small_talk(t), "{t}");
        }
        for t in ["Ana Silva", "María", "Hola Gómez"] {
            assert!(!is_small_talk(t), "{t}");
        }
    }
}
