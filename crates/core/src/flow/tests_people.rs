//! The interpreter played as people write: tasks and times in their own words, yes in
//! many forms, greetings and media in the middle of a question, taps on older messages.

use std::collections::BTreeMap;

use super::tests::{item, options, reply, say, slots, texts, to_slots, AR, MON_9, OFFSET};
use super::*;
use crate::wish::{Day, Part, Wish};

fn tap(flow: &Flow, state: &mut State, id: &str) -> Progress {
    let input = Input::Message {
        text: "x".into(),
        reply_id: Some(id.into()),
    };
    step(flow, state, input, AR)
}

fn option_ids(p: &Progress) -> Vec<String> {
    match p.outputs.last() {
        Some(crate::chat::Output::Choose(q)) => q.options().map(|c| c.id.clone()).collect(),
        _ => vec![],
    }
}

fn with_phone() -> State {
    let mut state = State::default();
    state
        .vars
        .insert("customer.phone".into(), "+5491155551234".into());
    state
}

/// From `first` (a first message that starts the booking, or "1" at the menu) to the slot
/// request of the only service and calendar.
fn to_one_calendars_slots(flow: &Flow, state: &mut State, first: &str) -> Progress {
    let p = say(flow, state, first);
    assert_eq!(
        p.need,
        Some(Request::Services),
        "{first:?} leads to booking, no menu"
    );
    reply(flow, state, Reply::Items(vec![item("svc_1", "Consulta")]));
    reply(flow, state, Reply::Items(vec![item("cal_a", "Dra. Ruiz")]))
}

#[test]
fn a_first_message_naming_a_day_and_part_of_it_asks_for_the_nearest_slots() {
    let flow = default_flow("es");
    let mut state = State::default();
    let p = to_one_calendars_slots(&flow, &mut state, "quiero turno el martes a la tarde");
    let want = Wish {
        day: Some(Day::Weekday(1)),
        part: Some(Part::Afternoon),
        ..Wish::default()
    };
    assert!(
        matches!(&p.need, Some(Request::Slots { wish: Some(w), .. }) if *w == want),
        "{:?}",
        p.need
    );
    // Typed at the list: another time.
    let p = reply(&flow, &mut state, slots(&[MON_9], true));
    assert_eq!(options(&p), ["09:00", "Más adelante", "Otro día"]);
    let p = say(&flow, &mut state, "mejor el jueves a las 10");
    assert!(
        matches!(&p.need, Some(Request::Slots { wish: Some(w), .. })
            if w.day == Some(Day::Weekday(3)) && w.at.is_some()),
        "{:?}",
        p.need
    );
}

#[test]
fn a_time_nobody_has_free_is_said_before_the_nearest_slots() {
    let flow = default_flow("en");
    let mut state = State::default();
    to_one_calendars_slots(&flow, &mut state, "tomorrow at 10am");
    let mut page = slots(&[MON_9], false);
    if let Reply::Slots { missed, .. } = &mut page {
        *missed = true;
    }
    let p = reply(&flow, &mut state, page);
    assert_eq!(
        texts(&p)[0],
        "Nothing is free at that time; these are the nearest:"
    );
}

#[test]
fn a_tap_on_an_older_slot_list_holds_exactly_that_slot() {
    let flow = default_flow("es");
    let mut state = State::default();
    to_slots(&flow, &mut state);
    reply(&flow, &mut state, slots(&[MON_9, MON_9 + 1800], true));
    say(&flow, &mut state, "Más adelante");
    reply(
        &flow,
        &mut state,
        slots(&[MON_9 + 86_400, MON_9 + 88_200], true),
    );
    let old = format!("slot:cal_a:{MON_9}:{OFFSET}");
    let p = tap(&flow, &mut state, &old);
    assert!(
        matches!(&p.need, Some(Request::Hold { calendar, start, .. })
            if calendar == "cal_a" && *start == MON_9),
        "the old tap means its own slot, not the same hour on the page shown: {:?}",
        p.need
    );
}

#[test]
fn an_old_button_about_another_booking_is_out_of_date_and_acts_on_nothing() {
    let flow = default_flow("es");
    let mut state = with_phone();
    let two = || Reply::Items(vec![item("bkg_1", "lun 07/01"), item("bkg_2", "mar 08/01")]);
    say(&flow, &mut state, "mis turnos");
    reply(&flow, &mut state, two());
    let p = say(&flow, &mut state, "1");
    let first = option_ids(&p);
    assert_eq!(first, ["confirm@bkg_1", "cancel@bkg_1", "reschedule@bkg_1"]);
    say(&flow, &mut state, "menú");
    say(&flow, &mut state, "mis turnos");
    reply(&flow, &mut state, two());
    say(&flow, &mut state, "2");
    let p = tap(&flow, &mut state, "reschedule@bkg_1");
    assert_eq!(p.need, None, "nothing is moved");
    assert_eq!(
        texts(&p)[0],
        "Esa lista ya no está vigente. Esta es la actual:"
    );
    assert_eq!(option_ids(&p)[2], "reschedule@bkg_2");
    let p = tap(&flow, &mut state, "reschedule@bkg_2");
    assert!(
        matches!(p.need, Some(Request::Slots { booking: Some(ref b), .. }) if b == "bkg_2"),
        "the current button moves the booking on show: {:?}",
        p.need
    );
}

#[test]
fn cancel_in_the_persons_words_with_one_booking_asks_only_if_they_are_sure() {
    for (lang, words, yes) in [
        ("es", "quiero cancelar mi turno", "dale"),
        ("pt", "quero cancelar", "pode ser"),
        ("en", "I want to cancel", "sure"),
    ] {
        let flow = default_flow(lang);
        let mut state = with_phone();
        let p = say(&flow, &mut state, words);
        assert!(matches!(p.need, Some(Request::MyBookings { .. })), "{lang}");
        let mut b = item("bkg_1", "07/01 09:00");
        b.vars
            .insert("booking_text".into(), "Consulta 07/01".into());
        let p = reply(&flow, &mut state, Reply::Items(vec![b]));
        assert_eq!(
            option_ids(&p),
            ["yes@bkg_1", "no@bkg_1"],
            "{lang}: are you sure?"
        );
        let p = say(&flow, &mut state, yes);
        assert_eq!(
            p.need,
            Some(Request::Act {
                booking: "bkg_1".into(),
                action: model::BookingAction::Cancel,
                start: None
            }),
            "{lang}: {yes:?} is yes"
        );
    }
}

#[test]
fn a_reschedule_in_own_words_names_the_booking_being_moved() {
    let flow = default_flow("es");
    let mut state = with_phone();
    say(&flow, &mut state, "necesito reagendar");
    let mut b = item("bkg_1", "07/01 09:00");
    b.vars
        .insert("booking_text".into(), "Consulta, lun 07/01 09:00".into());
    b.vars.insert("service".into(), "svc_1".into());
    let p = reply(&flow, &mut state, Reply::Items(vec![b]));
    assert!(
        matches!(&p.need, Some(Request::Slots { booking: Some(b), .. }) if b == "bkg_1"),
        "{:?}",
        p.need
    );
    let p = reply(&flow, &mut state, slots(&[MON_9], false));
    assert_eq!(
        texts(&p),
        ["¿A qué horario movemos tu turno de Consulta, lun 07/01 09:00?"]
    );
}

#[test]
fn a_greeting_or_a_yes_is_not_taken_for_a_name_and_the_question_follows() {
    let flow = default_flow("es");
    let mut state = State::default();
    to_slots(&flow, &mut state);
    reply(&flow, &mut state, slots(&[MON_9], false));
    say(&flow, &mut state, "1");
    reply(
        &flow,
        &mut state,
        Reply::Held {
            hold: "bkg_h".into(),
        },
    );
    say(&flow, &mut state, "11 5555 1234");
    reply(&flow, &mut state, Reply::Done(BTreeMap::new()));
    let p = say(&flow, &mut state, "hola");
    assert_eq!(
        texts(&p),
        [
            "¡Hola de nuevo! Seguimos donde quedamos:",
            "¿A nombre de quién hago la reserva? (nombre y apellido)"
        ]
    );
    let p = say(&flow, &mut state, "sí");
    assert_eq!(texts(&p)[0], flow.messages.retry);
    assert!(!state.vars.contains_key("customer.name"));
    say(&flow, &mut state, "Domingo Pérez");
    assert_eq!(
        state.vars["customer.name"], "Domingo Pérez",
        "a name that is a weekday"
    );
}

#[test]
fn an_image_or_a_voice_note_gets_a_short_answer_and_the_question_again() {
    let flow = default_flow("pt");
    let mut state = State::default();
    say(&flow, &mut state, "oi");
    let p = say(&flow, &mut state, "");
    assert_eq!(texts(&p)[0], flow.messages.media.clone().unwrap());
    assert_eq!(options(&p).len(), 3, "the menu again");
}

#[test]
fn another_day_lists_the_days_with_room_and_a_day_offers_its_slots() {
    let flow = default_flow("pt");
    let mut state = State::default();
    say(&flow, &mut state, "oi");
    to_one_calendars_slots(&flow, &mut state, "1");
    let eight: Vec<i64> = (0..8).map(|i| MON_9 + i * 1800).collect();
    let p = reply(&flow, &mut state, slots(&eight, true));
    assert_eq!(
        options(&p).len(),
        10,
        "eight slots, later, another day: {:?}",
        options(&p)
    );
    let p = tap(&flow, &mut state, "other_day");
    assert!(
        matches!(&p.need, Some(Request::Days { service, calendar: Some(c), .. })
            if service == "svc_1" && c == "cal_a"),
        "{:?}",
        p.need
    );
    let days = vec![
        item("day:2030-01-07", "seg 07/01"),
        item("day:2030-01-14", "seg 14/01"),
    ];
    let p = reply(&flow, &mut state, Reply::Items(days));
    assert_eq!(texts(&p), ["Qual dia fica bom para você?"]);
    let p = say(&flow, &mut state, "2");
    let want = Wish {
        day: Some(Day::Date {
            month: 1,
            day: 14,
            year: Some(2030),
        }),
        ..Wish::default()
    };
    assert!(
        matches!(&p.need, Some(Request::Slots { wish: Some(w), .. }) if *w == want),
        "{:?}",
        p.need
    );
}

#[test]
fn a_page_with_earlier_and_later_leaves_room_for_another_day_within_ten_rows() {
    let flow = default_flow("en");
    let mut state = State::default();
    say(&flow, &mut state, "hi");
    to_one_calendars_slots(&flow, &mut state, "1");
    let eight: Vec<i64> = (0..8).map(|i| MON_9 + i * 1800).collect();
    reply(&flow, &mut state, slots(&eight, true));
    say(&flow, &mut state, "Later");
    let mut next = slots(&eight.iter().map(|s| s + 86_400).collect::<Vec<_>>(), true);
    if let Reply::Slots { has_earlier, .. } = &mut next {
        *has_earlier = true;
    }
    let p = reply(&flow, &mut state, next);
    let shown = options(&p);
    assert_eq!(shown.len(), 10, "{shown:?}");
    assert_eq!(&shown[7..], ["Earlier", "Later", "Another day"]);
    // "Later" goes on from the last slot shown, not the one left out.
    let p = say(&flow, &mut state, "Later");
    assert!(
        matches!(p.need, Some(Request::Slots { after: Some(a), .. }) if a == MON_9 + 86_400 + 6 * 1800),
        "{:?}",
        p.need
    );
}

#[test]
fn a_greeting_at_the_first_question_shows_it_again_without_a_welcome_back() {
    let flow = default_flow("es");
    let mut state = State::default();
    let first = say(&flow, &mut state, "hola");
    let again = say(&flow, &mut state, "hola");
    assert_eq!(
        texts(&again),
        texts(&first),
        "the menu greets by itself; '¡Hola de nuevo!' before '¡Hola!' reads twice"
    );
}

#[test]
fn asking_for_a_person_as_the_first_message_hands_over_at_once() {
    let flow = default_flow("es");
    let mut state = State::default();
    let p = say(&flow, &mut state, "agente");
    assert!(p.handoff, "{:?}", texts(&p));
}
