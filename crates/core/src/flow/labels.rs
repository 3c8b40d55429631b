//! How instants read in a conversation: "lun 12/01" over "09:00", in the flow's language and
//! the calendar's local time.

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

fn weekday(language: &str, day: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    let i = match day {
        Monday => 0,
        Tuesday => 1,
        Wednesday => 2,
        Thursday => 3,
        Friday => 4,
        Saturday => 5,
        Sunday => 6,
    };
    let names: [&str; 7] = match language {
        "pt" => ["seg", "ter", "qua", "qui", "sex", "sáb", "dom"],
        "en" => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        _ => ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
    };
    names[i]
}

fn local(start: i64, offset_seconds: i32) -> jiff::civil::DateTime {
    let offset = Offset::from_seconds(offset_seconds).unwrap_or(Offset::UTC);
    Timestamp::from_second(start)
        .unwrap_or_default()
        .to_zoned(TimeZone::fixed(offset))
        .datetime()
}

/// The day a slot falls on: `lun 12/01` (`Mon 01/12` in English).
pub fn day(language: &str, start: i64, offset_seconds: i32) -> String {
    let dt = local(start, offset_seconds);
    let name = weekday(language, dt.weekday());
    if language == "en" {
        format!("{name} {:02}/{:02}", dt.month(), dt.day())
    } else {
        format!("{name} {:02}/{:02}", dt.day(), dt.month())
    }
}

/// The local time of a slot: `09:00`.
pub fn time(start: i64, offset_seconds: i32) -> String {
    let dt = local(start, offset_seconds);
    format!("{:02}:{:02}", dt.hour(), dt.minute())
}

/// Day and time together: `lun 12/01 09:00`.
pub fn when(language: &str, start: i64, offset_seconds: i32) -> String {
    format!(
        "{} {}",
        day(language, start, offset_seconds),
        time(start, offset_seconds)
    )
}

/// The built-in text for a message a flow may leave out (`Messages::media` and the
/// others after it), in the flow's language.
pub fn builtin(language: &str, key: &str) -> &'static str {
    match (language, key) {
        ("pt", "media") => "Por aqui eu só consigo ler texto. Escreva sua resposta, por favor.",
        ("en", "media") => "I can only read text here. Please type your answer.",
        (_, "media") => "Por acá solo puedo leer texto. Escribí tu respuesta, por favor.",
        ("pt", "waiting") => "Já avisei a equipe; alguém vai te responder por aqui.",
        ("en", "waiting") => "I've let the team know; someone will answer you here.",
        (_, "waiting") => "Ya le avisé al equipo; alguien te va a responder por acá.",
        ("pt", "welcome_back") => "Olá de novo! Continuamos de onde paramos:",
        ("en", "welcome_back") => "Hello again! Let's pick up where we left off:",
        (_, "welcome_back") => "¡Hola de nuevo! Seguimos donde quedamos:",
        ("pt", "stale") => "Essa lista já não vale. Esta é a atual:",
        ("en", "stale") => "That list is out of date. Here is the current one:",
        (_, "stale") => "Esa lista ya no está vigente. Esta es la actual:",
        ("pt", "wish_missed") => {
            "Não tenho horário livre nesse momento; estes são os mais próximos:"
        }
        ("en", "wish_missed") => "Nothing is free at that time; these are the nearest:",
        (_, "wish_missed") => "No tengo lugar en ese momento; estos son los horarios más cercanos:",
        ("pt", "other_day") => "Outro dia",
        ("en", "other_day") => "Another day",
        (_, "other_day") => "Otro día",
        ("pt", "which_day") => "Qual dia fica bom para você?",
        ("en", "which_day") => "Which day suits you?",
        (_, "which_day") => "¿Qué día te queda bien?",
        _ => "",
    }
}
