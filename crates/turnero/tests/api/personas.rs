//! The bot played as patients would, over WhatsApp, in Spanish, Portuguese and English,
//! counting their messages from the first "hola" to the confirmation (issue goals: a new
//! booking in at most 5, a reschedule in 4, a cancellation by typing in 3).
//!
//! The clinic (`TestApp::clinic`) is open Monday to Friday 09:00–13:00 in Buenos Aires;
//! the fixed clock reads Monday 2030-01-07 09:00 there.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::patient::*;

/// Tuesday 2030-01-08 10:00 in Buenos Aires.
const TUESDAY_10: i64 = 1_894_107_600;

struct Persona {
    lang: &'static str,
    wa_id: &'static str,
    hello: &'static str,
    name: &'static str,
    /// "Tomorrow at 10", as a new patient would first write.
    tomorrow_at_10: &'static str,
    /// "Tuesday afternoon": the clinic closes at 13:00.
    tuesday_afternoon: &'static str,
    /// "Tuesday evening", when the clinic is closed.
    tuesday_evening: &'static str,
    reschedule: &'static str,
    cancel: &'static str,
    /// Drops what is under way.
    exit: &'static str,
    yes: &'static str,
    booked: &'static str,
    moved: &'static str,
    canceled: &'static str,
}

const PERSONAS: [Persona; 3] = [
    Persona {
        lang: "es",
        wa_id: "5491155550001",
        hello: "hola",
        name: "María Gómez",
        tomorrow_at_10: "quiero turno mañana a las 10",
        tuesday_afternoon: "quiero turno el martes a la tarde",
        tuesday_evening: "el martes a la noche",
        reschedule: "quiero cambiar mi turno",
        cancel: "quiero cancelar",
        exit: "salir",
        yes: "dale",
        booked: "¡Listo!",
        moved: "Listo, tu turno pasó a",
        canceled: "Cancelé tu turno",
    },
    Persona {
        lang: "pt",
        wa_id: "5511987650002",
        hello: "oi",
        name: "João Souza",
        tomorrow_at_10: "quero marcar uma consulta amanhã às 10h",
        tuesday_afternoon: "quero marcar na terça à tarde",
        tuesday_evening: "terça à noite",
        reschedule: "preciso remarcar",
        cancel: "quero cancelar",
        exit: "sair",
        yes: "pode ser",
        booked: "Pronto!",
        moved: "Pronto, seu agendamento passou",
        canceled: "Cancelei seu agendamento",
    },
    Persona {
        lang: "en",
        wa_id: "14155550003",
        hello: "hi",
        name: "Mary Smith",
        tomorrow_at_10: "I need an appointment tomorrow at 10am",
        tuesday_afternoon: "can I book Tuesday afternoon?",
        tuesday_evening: "Tuesday evening",
        reschedule: "I need to reschedule",
        cancel: "I want to cancel",
        exit: "stop",
        yes: "sure",
        booked: "Done!",
        moved: "Done, your appointment moved",
        canceled: "I canceled your appointment",
    },
];

async fn speaking<'a>(app: &'a TestApp, who: &Persona) -> Patient<'a> {
    let (status, t) = app
        .call(
            Method::PATCH,
            "/api/v1/tenant",
            Some(json!({"locale": who.lang})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let mut p = Patient::new(app).await;
    p.wa_id = who.wa_id.into();
    p
}

/// Says the name and checks the bot then asks to confirm.
async fn gives_name(p: &mut Patient<'_>, who: &Persona) {
    let confirm = p.says(who.name).await;
    assert_eq!(
        button_ids(confirm.last().unwrap()),
        ["yes", "no"],
        "{}",
        who.lang
    );
}

fn last_text(replies: &[Value]) -> String {
    replies.last().map(body_text).unwrap_or_default()
}

/// A slot row's start (`slot:{calendar}:{start}:{offset}`).
fn start_of(row: &str) -> Option<i64> {
    row.split(':').nth(2)?.parse().ok()
}

async fn pending_at(app: &TestApp, start: i64) -> i64 {
    let at = turnero_core::time::fmt_ts(start);
    let (_, list) = app.get("/api/v1/bookings?status=pending&limit=100").await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| {
            b["start"]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                == at.parse::<jiff::Timestamp>().ok()
        })
        .count() as i64
}

async fn a_new_patient_books_the_first_free_slot_by_tapping_in_five_messages(app: &TestApp) {
    app.clinic().await;
    for who in &PERSONAS {
        let mut p = speaking(app, who).await;
        let menu = p.says(who.hello).await;
        assert_eq!(button_ids(&menu[0])[0], "book", "{}", who.lang);
        let list = p.presses("book").await;
        let first = row_ids(list.last().unwrap())[0].clone();
        p.picks_row(&first).await;
        gives_name(&mut p, who).await;
        let done = p.presses("yes").await;
        assert!(
            last_text(&done).starts_with(who.booked),
            "{}: {done:?}",
            who.lang
        );
        assert!(p.sent <= 5, "{}: {} messages", who.lang, p.sent);
        assert_eq!(p.graph.problems(), Vec::<String>::new());
    }
}

async fn a_new_patient_who_writes_when_books_that_slot_in_at_most_five_messages(app: &TestApp) {
    app.clinic().await;
    for who in &PERSONAS {
        let mut p = speaking(app, who).await;
        p.says(who.hello).await;
        let list = p.says(who.tomorrow_at_10).await;
        let rows = row_ids(list.last().unwrap());
        let ten = rows
            .iter()
            .find(|r| start_of(r) == Some(TUESDAY_10))
            .unwrap_or_else(|| panic!("{}: Tuesday 10:00 is offered: {rows:?}", who.lang))
            .clone();
        p.picks_row(&ten).await;
        p.says(who.name).await;
        let done = p.says(who.yes).await;
        assert!(
            last_text(&done).starts_with(who.booked),
            "{}: {done:?}",
            who.lang
        );
        assert!(p.sent <= 5, "{}: {} messages", who.lang, p.sent);
        assert_eq!(pending_at(app, TUESDAY_10).await, 1, "{}", who.lang);
        // Cancel it again so the next language finds 10:00 free.
        let canceled = p.says(who.cancel).await;
        assert!(!canceled.is_empty());
        let gone = p.says(who.yes).await;
        assert!(
            last_text(&gone).starts_with(who.canceled),
            "{}: {gone:?}",
            who.lang
        );

        // Tuesday afternoon: from 12:00, the first afternoon slot.
        let list = p.says(who.tuesday_afternoon).await;
        assert_eq!(list.len(), 1, "{}: {list:?}", who.lang);
        let rows = row_ids(&list[0]);
        assert_eq!(
            start_of(&rows[0]),
            Some(TUESDAY_10 + 7200),
            "{}: 12:00",
            who.lang
        );
        // The evening is closed: said, and the nearest slots after it offered.
        let left = p.says(who.exit).await;
        assert_eq!(left.len(), 1, "{}: {left:?}", who.lang);
        let list = p.says(who.tuesday_evening).await;
        assert_eq!(list.len(), 2, "{}: {list:?}", who.lang);
        let rows = row_ids(&list[1]);
        let wednesday_9 = TUESDAY_10 + 86_400 - 3600;
        assert_eq!(
            start_of(&rows[0]),
            Some(wednesday_9),
            "{}: Wednesday 09:00",
            who.lang
        );
        let left = p.says(who.exit).await;
        assert_eq!(left.len(), 1, "{}: {left:?}", who.lang);
    }
}

async fn a_returning_patient_reschedules_in_three_messages_and_cancels_by_typing_in_three(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    for who in &PERSONAS {
        let phone = format!("+{}", who.wa_id);
        let (status, b) = app.book(&cal, &svc, "2030-01-09T13:00:00Z", &phone).await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        let mut p = speaking(app, who).await;
        p.says(who.hello).await;
        let list = p.says(who.reschedule).await;
        assert!(
            body_text(list.last().unwrap()).contains("09/01")
                || body_text(list.last().unwrap()).contains("01/09"),
            "{}: the question names the booking being moved: {list:?}",
            who.lang
        );
        let row = row_ids(list.last().unwrap())[0].clone();
        let moved = p.picks_row(&row).await;
        assert!(
            last_text(&moved).starts_with(who.moved),
            "{}: {moved:?}",
            who.lang
        );
        assert!(
            p.sent <= 4,
            "{}: rescheduled in {} messages",
            who.lang,
            p.sent
        );
        let (_, after) = app
            .get(&format!("/api/v1/bookings/{}", b["id"].as_str().unwrap()))
            .await;
        let moved_to: jiff::Timestamp = after["start"].as_str().unwrap().parse().unwrap();
        assert_eq!(Some(moved_to.as_second()), start_of(&row));

        let before = p.sent;
        p.says(who.hello).await;
        let sure = p.says(who.cancel).await;
        assert_eq!(
            option_ids(sure.last().unwrap()).len(),
            2,
            "{}: are you sure?",
            who.lang
        );
        let gone = p.says(who.yes).await;
        assert!(
            last_text(&gone).starts_with(who.canceled),
            "{}: {gone:?}",
            who.lang
        );
        assert!(
            p.sent - before <= 3,
            "{}: canceled in {}",
            who.lang,
            p.sent - before
        );
        let (_, after) = app
            .get(&format!("/api/v1/bookings/{}", b["id"].as_str().unwrap()))
            .await;
        assert_eq!(after["status"], "canceled");
    }
}

async fn media_and_greetings_mid_question_get_a_short_answer_and_the_question_again(app: &TestApp) {
    app.clinic().await;
    for who in &PERSONAS {
        let mut p = speaking(app, who).await;
        p.says(who.hello).await;
        let list = p.presses("book").await;
        let first = row_ids(list.last().unwrap())[0].clone();
        let name_q = p.picks_row(&first).await;
        let question = last_text(&name_q);
        for (kind, media) in [
            (
                "image",
                json!({"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}}),
            ),
            (
                "audio",
                json!({"type": "audio", "audio": {"id": "2", "voice": true}}),
            ),
            (
                "sticker",
                json!({"type": "sticker", "sticker": {"id": "3"}}),
            ),
            (
                "location",
                json!({"type": "location", "location": {"latitude": -34.6, "longitude": -58.4}}),
            ),
        ] {
            let body = p.next_message("whatsapp_inbound_text.json", media);
            let replies = p.deliver(body).await;
            assert_eq!(replies.len(), 2, "{} {kind}: {replies:?}", who.lang);
            assert_eq!(last_text(&replies), question, "{} {kind}", who.lang);
        }
        let again = p.says(who.hello).await;
        assert_eq!(again.len(), 2, "{}: {again:?}", who.lang);
        assert_eq!(
            last_text(&again),
            question,
            "{}: a greeting is not a name",
            who.lang
        );
        gives_name(&mut p, who).await;
        p.says(who.exit).await;
    }
}

async fn another_day_lists_the_days_with_room_and_a_tapped_day_offers_its_slots(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    // Wednesday is fully booked (eight slots, capacity one).
    for i in 0..8 {
        let start = turnero_core::time::fmt_ts(TUESDAY_10 + 86_400 - 3600 + i * 1800);
        let (status, b) = app
            .book(&cal, &svc, &start, &format!("+54911555510{i:02}"))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
    }
    let who = &PERSONAS[0];
    let mut p = speaking(app, who).await;
    p.says(who.hello).await;
    let list = p.presses("book").await;
    let rows = row_ids(list.last().unwrap());
    assert_eq!(rows.last().unwrap(), "other_day");
    let days = p.picks_row("other_day").await;
    let ids = row_ids(days.last().unwrap());
    assert_eq!(
        &ids[..3],
        ["day:2030-01-07", "day:2030-01-08", "day:2030-01-10"],
        "today, Tuesday, then Thursday: Wednesday is full"
    );
    let thursday = p.picks_row(&ids[2]).await;
    let rows = row_ids(thursday.last().unwrap());
    let thursday_9 = TUESDAY_10 + 2 * 86_400 - 3600;
    assert_eq!(start_of(&rows[0]), Some(thursday_9), "{rows:?}");
    p.picks_row(&rows[0]).await;
    p.says(who.name).await;
    p.says(who.yes).await;
    assert_eq!(pending_at(app, thursday_9).await, 1);
    // hola, book, another day, the day, the slot, the name, yes.
    assert!(p.sent <= 7, "{} messages", p.sent);
}

crate::on_both_backends!(
    another_day_lists_the_days_with_room_and_a_tapped_day_offers_its_slots,
    media_and_greetings_mid_question_get_a_short_answer_and_the_question_again,
    a_new_patient_books_the_first_free_slot_by_tapping_in_five_messages,
    a_new_patient_who_writes_when_books_that_slot_in_at_most_five_messages,
    a_returning_patient_reschedules_in_three_messages_and_cancels_by_typing_in_three,
);
