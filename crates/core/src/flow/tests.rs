//! The interpreter driven through every step kind, and flows that must be refused.

use std::collections::BTreeMap;

use super::engine::{read_answer, Item, SlotItem};
use super::*;
use crate::chat::Output;
use crate::phone::Region;

pub(super) const AR: Option<Region> = Some(Region::AR);
pub(super) const MON_9: i64 = 1_894_017_600; // 2030-01-07T12:00Z = Monday 09:00 in Buenos Aires
pub(super) const OFFSET: i32 = -10_800;

pub(super) fn say(flow: &Flow, state: &mut State, text: &str) -> Progress {
    let input = Input::Message {
        text: text.into(),
        reply_id: None,
    };
    step(flow, state, input, AR)
}

pub(super) fn reply(flow: &Flow, state: &mut State, r: Reply) -> Progress {
    step(flow, state, Input::Reply(r), AR)
}

pub(super) fn item(id: &str, title: &str) -> Item {
    Item {
        id: id.into(),
        title: title.into(),
        description: None,
        vars: BTreeMap::new(),
    }
}

pub(super) fn slots(starts: &[i64], later: bool) -> Reply {
    Reply::Slots {
        slots: starts
            .iter()
            .map(|s| SlotItem {
                calendar: "cal_a".into(),
                calendar_name: "Dra. Ruiz".into(),
                start: *s,
                offset_seconds: OFFSET,
            })
            .collect(),
        has_earlier: false,
        has_later: later,
        missed: false,
    }
}

pub(super) fn texts(p: &Progress) -> Vec<String> {
    p.outputs
        .iter()
        .map(|o| match o {
            Output::Text(t) | Output::AskContact(t) => t.clone(),
            Output::Choose(q) => q.body.clone(),
            Output::Template(t) => t.name.clone(),
            Output::HandOff => String::new(),
            Output::Mail(m) => m.subject.clone(),
        })
        .collect()
}

pub(super) fn options(p: &Progress) -> Vec<String> {
    match p.outputs.last() {
        Some(Output::Choose(q)) => q.options().map(|c| c.title.clone()).collect(),
        _ => vec![],
    }
}

/// Walks the Spanish flow to the slot list for the only service, any professional.
pub(super) fn to_slots(flow: &Flow, state: &mut State) -> Progress {
    say(flow, state, "hola");
    let p = say(flow, state, "1");
    assert_eq!(p.need, Some(Request::Services));
    let p = reply(flow, state, Reply::Items(vec![item("svc_1", "Consulta")]));
    assert!(
        matches!(p.need, Some(Request::Professionals { .. })),
        "one service is picked without asking"
    );
    let p = reply(
        flow,
        state,
        Reply::Items(vec![item("cal_a", "Dra. Ruiz"), item("cal_b", "Dr. Paz")]),
    );
    assert_eq!(options(&p), ["Dra. Ruiz", "Dr. Paz", "Cualquiera"]);
    say(flow, state, "cualquiera")
}

#[test]
fn the_built_in_flows_are_valid_in_every_language_and_read_back_as_exported() {
    for lang in ["es", "pt", "en"] {
        let flow = default_flow(lang);
        assert_eq!(flow.language, lang);
        let exported = serde_json::to_vec(&flow).unwrap();
        assert_eq!(parse(&exported).unwrap(), flow);
    }
}

#[test]
fn a_bad_flow_is_refused_with_every_problem_by_path() {
    let mut doc = serde_json::to_value(default_flow("es")).unwrap();
    doc["start"] = "nowhere".into();
    doc["steps"]["service"]["next"] = "gone".into();
    doc["steps"]["menu"]["options"][1]["next"] = "lost".into();
    doc["steps"]["slots"]["page_size"] = 9.into();
    doc["steps"]["book"]["text"] = "{{ unclosed".into();
    doc["steps"]["weird"] = serde_json::json!({"kind": "teleport"});
    doc["steps"]["name"]["save_to"] = "Customer Name".into();
    doc["questions"] =
        serde_json::json!([{"key": "plan", "text": "¿Plan?", "validator": "choice"}]);
    let problems = parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for want in [
        "start",
        "steps.service.next",
        "steps.menu.options[1].next",
        "steps.slots.page_size",
        "steps.book.text",
        "steps.weird.kind",
        "steps.name.save_to",
        "questions[0].options",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    let not_json = parse(b"{\"schema\": 1, \"language\": 3}").unwrap_err();
    assert_eq!(not_json[0].path, "language");
}

#[test]
fn a_whole_booking_holds_the_slot_asks_only_what_is_unknown_and_books_with_custom_fields() {
    let mut flow = default_flow("es");
    flow.questions = vec![model::CustomQuestion {
        key: "obra_social".into(),
        text: "¿Obra social?".into(),
        validator: Validator::Text,
        options: vec![],
    }];
    let mut state = State::default();
    let p = to_slots(&flow, &mut state);
    let Some(Request::Slots {
        calendar: None,
        count: 8,
        ..
    }) = p.need
    else {
        panic!("any professional asks every calendar: {:?}", p.need)
    };
    let p = reply(&flow, &mut state, slots(&[MON_9, MON_9 + 1800], true));
    assert_eq!(options(&p), ["09:00", "09:30", "Más adelante", "Otro día"]);
    let p = say(&flow, &mut state, "más adelante");
    assert!(matches!(p.need, Some(Request::Slots { after: Some(a), .. }) if a == MON_9 + 1800));
    reply(&flow, &mut state, slots(&[MON_9 + 86_400], false));
    let p = say(&flow, &mut state, "1");
    assert_eq!(
        p.need,
        Some(Request::Hold {
            calendar: "cal_a".into(),
            service: "svc_1".into(),
            start: MON_9 + 86_400,
            minutes: 10
        })
    );
    let p = reply(
        &flow,
        &mut state,
        Reply::Held {
            hold: "bkg_h".into(),
        },
    );
    assert_eq!(texts(&p), ["¿Cuál es tu número de celular?"]);
    assert!(
        matches!(p.outputs[0], Output::AskContact(_)),
        "a phone question asks for the contact"
    );
    let p = say(&flow, &mut state, "11 15 5555-1234");
    assert_eq!(
        p.need,
        Some(Request::Identify {
            phone: "+5491155551234".into()
        })
    );
    let known = BTreeMap::from([("customer.name".to_string(), "Ana Gómez".to_string())]);
    let p = reply(&flow, &mut state, Reply::Done(known));
    assert_eq!(texts(&p), ["¿Obra social?"], "the known name is not asked");
    let p = say(&flow, &mut state, "OSDE 210");
    assert_eq!(
        texts(&p),
        ["¿Confirmo Consulta con Dra. Ruiz el mar 08/01 09:00 a nombre de Ana Gómez?"]
    );
    let p = say(&flow, &mut state, "SI");
    let Some(Request::Book {
        hold,
        start,
        customer,
        fields,
        ..
    }) = p.need
    else {
        panic!("{:?}", p.need)
    };
    assert_eq!(hold.as_deref(), Some("bkg_h"));
    assert_eq!(start, MON_9 + 86_400);
    assert_eq!(customer["phone"], "+5491155551234");
    assert_eq!(fields["obra_social"], "OSDE 210");
    let booked = BTreeMap::from([("booking".to_string(), "bkg_1".to_string())]);
    let p = reply(&flow, &mut state, Reply::Done(booked));
    assert!(texts(&p)[0].starts_with("¡Listo!"));
    assert_eq!(p.release, None, "a used hold is not released");
    assert_eq!(state.at, None);
    assert_eq!(
        state.vars.keys().collect::<Vec<_>>(),
        ["customer.name", "customer.phone"],
        "only what is known about the customer outlives the conversation"
    );
}

#[test]
fn a_slot_taken_meanwhile_is_said_and_the_slots_are_offered_again() {
    let flow = default_flow("es");
    let mut state = State::default();
    to_slots(&flow, &mut state);
    reply(&flow, &mut state, slots(&[MON_9], false));
    say(&flow, &mut state, "09:00");
    let p = reply(&flow, &mut state, Reply::Taken);
    assert_eq!(texts(&p), [flow.messages.slot_taken.as_str()]);
    assert!(matches!(p.need, Some(Request::Slots { .. })));
    // The hold ran out before booking and the slot went to someone else.
    state
        .vars
        .insert("customer.phone".into(), "+5491155551234".into());
    state.vars.insert("customer.name".into(), "Ana".into());
    reply(&flow, &mut state, slots(&[MON_9], false));
    say(&flow, &mut state, "1");
    reply(
        &flow,
        &mut state,
        Reply::Held {
            hold: "bkg_h".into(),
        },
    );
    say(&flow, &mut state, "sí");
    let p = reply(&flow, &mut state, Reply::Taken);
    assert_eq!(texts(&p), [flow.messages.slot_taken.as_str()]);
    assert!(matches!(p.need, Some(Request::Slots { .. })));
    assert!(!state.vars.contains_key("hold"));
}

#[test]
fn with_any_professional_a_taken_slot_is_followed_by_every_calendars_slots_again() {
    let flow = default_flow("es");
    let mut state = State::default();
    to_slots(&flow, &mut state);
    let mut two = slots(&[MON_9, MON_9 + 1800], false);
    if let Reply::Slots { slots, .. } = &mut two {
        slots[1].calendar = "cal_b".into();
        slots[1].calendar_name = "Dr. Paz".into();
    }
    let p = reply(&flow, &mut state, two);
    assert_eq!(options(&p), ["09:00", "09:30", "Otro día"]);
    let p = say(&flow, &mut state, "2");
    assert!(matches!(&p.need, Some(Request::Hold { calendar, .. }) if calendar == "cal_b"));
    assert_eq!(state.vars["calendar_name"], "Dr. Paz");
    let p = reply(&flow, &mut state, Reply::Taken);
    assert!(
        matches!(&p.need, Some(Request::Slots { calendar: None, .. })),
        "still every calendar: {:?}",
        p.need
    );
}

#[test]
fn menu_and_exit_let_go_of_the_hold_cancelar_names_a_task_and_a_handoff_keeps_the_slot() {
    let flow = default_flow("es");
    let mut state = State::default();
    let hold = |state: &mut State, id: &str| {
        to_slots(&flow, state);
        reply(&flow, state, slots(&[MON_9], false));
        say(&flow, state, "1");
        reply(&flow, state, Reply::Held { hold: id.into() });
    };
    hold(&mut state, "bkg_h");
    let p = say(&flow, &mut state, "Menú");
    assert_eq!(p.release.as_deref(), Some("bkg_h"));
    assert_eq!(
        options(&p),
        ["Sacar un turno", "Mis turnos", "Hablar con alguien"]
    );
    let p = say(&flow, &mut state, "CANCELAR");
    assert_eq!(
        texts(&p),
        ["¿Cuál es tu número de celular?"],
        "to the bookings to cancel"
    );
    assert_eq!(state.vars["action"], "cancel");
    let p = say(&flow, &mut state, "salir");
    assert_eq!(texts(&p), [flow.messages.canceled.as_str()]);
    assert_eq!(state.at, None);

    hold(&mut state, "bkg_k");
    let p = say(&flow, &mut state, "agente");
    assert!(p.handoff && state.handoff);
    assert_eq!(
        p.release, None,
        "the staff who take over find the slot still held"
    );
    assert_eq!(state.vars["held"], "bkg_k");
    let p = say(&flow, &mut state, "¿hola?");
    assert_eq!(texts(&p), [flow.messages.waiting.as_deref().unwrap()]);
    let p = say(&flow, &mut state, "¿hay alguien?");
    assert!(p.outputs.is_empty(), "told once, then left to the staff");
}

#[test]
fn staff_who_take_over_are_not_announced_and_a_later_hand_off_is_announced_again() {
    let flow = default_flow("es");
    let mut state = State::default();
    say(&flow, &mut state, "hola");
    state.take_over();
    let p = say(&flow, &mut state, "¿me atienden?");
    assert!(p.outputs.is_empty(), "a person is already there: {p:?}");
    state.hand_back();
    assert!(!state.handoff && state.at.is_none());
    say(&flow, &mut state, "hola");
    let p = say(&flow, &mut state, "agente");
    assert!(p.handoff);
    let p = say(&flow, &mut state, "¿hola?");
    assert_eq!(texts(&p), [flow.messages.waiting.as_deref().unwrap()]);
}

#[test]
fn an_answer_that_does_not_fit_is_said_and_the_question_repeated() {
    let flow = default_flow("en");
    let mut state = State::default();
    say(&flow, &mut state, "hi");
    let p = say(&flow, &mut state, "7");
    assert_eq!(texts(&p)[0], flow.messages.retry);
    assert_eq!(
        options(&p),
        ["Book an appointment", "My appointments", "Talk to a person"]
    );
}

#[test]
fn my_bookings_confirms_cancels_after_asking_and_says_when_there_are_none() {
    let flow = default_flow("pt");
    let mut state = State::default();
    state
        .vars
        .insert("customer.phone".into(), "+5511987654321".into());
    say(&flow, &mut state, "oi");
    let p = say(&flow, &mut state, "meus agendamentos");
    assert!(
        matches!(&p.need, Some(Request::MyBookings { customer }) if customer["phone"] == "+5511987654321")
    );
    let p = reply(&flow, &mut state, Reply::Items(vec![]));
    assert_eq!(texts(&p), ["Você não tem agendamentos futuros."]);

    say(&flow, &mut state, "oi");
    say(&flow, &mut state, "2");
    let mut b = item("bkg_1", "seg 07/01 09:00");
    b.vars
        .insert("booking_text".into(), "Consulta, seg 07/01 09:00".into());
    reply(&flow, &mut state, Reply::Items(vec![b]));
    let p = say(&flow, &mut state, "1");
    assert_eq!(
        texts(&p),
        ["Consulta, seg 07/01 09:00. O que você quer fazer?"]
    );
    let p = say(&flow, &mut state, "cancelar");
    assert_eq!(
        options(&p),
        ["Sim", "Não"],
        "an option titled like a command is the option"
    );
    let p = say(&flow, &mut state, "sim");
    assert_eq!(
        p.need,
        Some(Request::Act {
            booking: "bkg_1".into(),
            action: model::BookingAction::Cancel,
            start: None
        })
    );
    let p = reply(&flow, &mut state, Reply::Done(BTreeMap::new()));
    assert_eq!(
        texts(&p),
        ["Cancelei seu agendamento de Consulta, seg 07/01 09:00."]
    );
}

#[test]
fn rescheduling_offers_slots_without_a_hold_and_moves_the_booking() {
    let flow = default_flow("es");
    let mut state = State::default();
    state
        .vars
        .insert("customer.phone".into(), "+5491155551234".into());
    say(&flow, &mut state, "hola");
    say(&flow, &mut state, "mis turnos");
    let mut b = item("bkg_1", "lun 07/01 09:00");
    b.vars.insert("service".into(), "svc_1".into());
    b.vars.insert("calendar".into(), "cal_a".into());
    reply(&flow, &mut state, Reply::Items(vec![b]));
    say(&flow, &mut state, "1");
    let p = say(&flow, &mut state, "cambiar horario");
    assert!(matches!(
        &p.need,
        Some(Request::Slots { calendar: Some(c), booking: Some(b), .. }) if c == "cal_a" && b == "bkg_1"
    ));
    reply(&flow, &mut state, slots(&[MON_9 + 3600], false));
    let p = say(&flow, &mut state, "10:00");
    assert_eq!(
        p.need,
        Some(Request::Act {
            booking: "bkg_1".into(),
            action: model::BookingAction::Reschedule,
            start: Some(MON_9 + 3600)
        })
    );
    let failed = |code: &str| Reply::Failed {
        code: code.into(),
        detail: "bookings can only be rescheduled up to 120 minutes before they start".into(),
    };
    let p = reply(&flow, &mut state, failed("cutoff_passed"));
    assert_eq!(
        texts(&p),
        [flow.messages.errors["cutoff_passed"].as_str()],
        "a known refusal is said in the flow's language"
    );
    assert_eq!(state.at, None);
    say(&flow, &mut state, "hola");
    say(&flow, &mut state, "mis turnos");
    let b = item("bkg_1", "lun 07/01 09:00");
    reply(&flow, &mut state, Reply::Items(vec![b]));
    say(&flow, &mut state, "1");
    say(&flow, &mut state, "confirmar");
    let p = reply(&flow, &mut state, failed("something_new"));
    assert_eq!(
        texts(&p),
        ["No pude hacerlo: bookings can only be rescheduled up to 120 minutes before they start"],
        "an unknown one falls back to `failed` with the agenda's words"
    );
}

#[test]
fn set_branch_say_and_choice_questions_follow_the_document() {
    let raw = serde_json::json!({
        "schema": 1, "language": "en", "start": "mark",
        "commands": {"menu": ["menu"], "cancel": ["cancel"], "agent": ["agent"]},
        "messages": default_flow("en").messages,
        "questions": [{"key": "plan", "text": "Plan?", "validator": "choice",
                       "options": [{"id": "a", "title": "Gold"}, {"id": "b", "title": "Basic"}]}],
        "steps": {
            "mark": {"kind": "set", "var": "vip", "value": "{% if customer.name == 'Ana' %}vip{% endif %}", "next": "route"},
            "route": {"kind": "branch", "var": "vip", "cases": [{"equals": "vip", "next": "vip"}], "default": "plain"},
            "vip": {"kind": "say", "text": "Welcome back, {{ customer.name }}.", "next": "ask"},
            "plain": {"kind": "say", "text": "Hello."},
            "ask": {"kind": "questions", "next": "bye"},
            "bye": {"kind": "say", "text": "Plan {{ fields.plan }} noted."}
        }
    });
    let flow = parse(&serde_json::to_vec(&raw).unwrap()).unwrap();
    let mut state = State::default();
    assert_eq!(texts(&say(&flow, &mut state, "hi")), ["Hello."]);
    state.vars.insert("customer.name".into(), "Ana".into());
    let p = say(&flow, &mut state, "hi");
    assert_eq!(texts(&p), ["Welcome back, Ana.", "Plan?"]);
    assert_eq!(p.changed.get("vip"), Some(&Some("vip".to_string())));
    let p = say(&flow, &mut state, "gold");
    assert_eq!(texts(&p), ["Plan Gold noted."]);
    assert_eq!(
        p.changed.get("vip"),
        Some(&None),
        "cleared when the run ends"
    );
}

#[test]
fn validators_keep_a_clean_value_or_refuse() {
    use Validator::*;
    assert_eq!(
        read_answer(Name, "  ana   gómez ", AR).as_deref(),
        Some("ana gómez")
    );
    assert_eq!(read_answer(Name, "4", AR), None);
    assert_eq!(
        read_answer(Phone, "011 15 5555-1234", AR).as_deref(),
        Some("+5491155551234")
    );
    assert_eq!(read_answer(Phone, "123", AR), None);
    assert_eq!(
        read_answer(Email, "Ana@Mail.com", AR).as_deref(),
        Some("ana@mail.com")
    );
    assert_eq!(read_answer(Email, "ana@mail", AR), None);
    assert_eq!(
        read_answer(Date, "7/1/1990", AR).as_deref(),
        Some("1990-01-07")
    );
    assert_eq!(read_answer(Date, "1990-02-30", AR), None);
    assert_eq!(
        read_answer(DocumentId, "30.123.456", AR).as_deref(),
        Some("30123456")
    );
    assert_eq!(read_answer(DocumentId, "??", AR), None);
    assert_eq!(read_answer(Text, "  ", AR), None);
}
