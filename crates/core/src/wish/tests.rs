//! Phrases people write, and the local days and hours they mean. Today is Tuesday
//! 2026-12-01 in every row.

use jiff::civil::{date, time, Date, Time};

use super::*;

const TODAY: Date = date(2026, 12, 1);

/// (what was written, language, first day, last day, from, until, nearest hour)
type Row = (
    &'static str,
    &'static str,
    Date,
    Date,
    Time,
    Time,
    Option<Time>,
);

fn whole_day() -> (Time, Time) {
    (Time::MIN, Time::MAX)
}

/// Every row, one line each (kept as a table by `rustfmt::skip`).
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    let (d0, d1) = whole_day();
    let morning = (time(6, 0, 0, 0), time(12, 0, 0, 0));
    let afternoon = (time(12, 0, 0, 0), time(19, 0, 0, 0));
    let evening = (time(18, 0, 0, 0), time(23, 59, 0, 0));
    let ten = Some(time(10, 0, 0, 0));
    vec![
        ("mañana a las 10", "es", date(2026, 12, 2), date(2026, 12, 2), d0, d1, ten),
        ("quiero turno el martes a la tarde", "es", date(2026, 12, 8), date(2026, 12, 8), afternoon.0, afternoon.1, None),
        ("el jueves 10hs", "es", date(2026, 12, 3), date(2026, 12, 3), d0, d1, ten),
        ("10h", "pt", TODAY, date(2026, 12, 14), d0, d1, ten),
        ("10am", "en", TODAY, date(2026, 12, 14), d0, d1, ten),
        ("a las 10:30", "es", TODAY, date(2026, 12, 14), d0, d1, Some(time(10, 30, 0, 0))),
        ("a las 5", "es", TODAY, date(2026, 12, 14), d0, d1, Some(time(17, 0, 0, 0))),
        ("at 3pm", "en", TODAY, date(2026, 12, 14), d0, d1, Some(time(15, 0, 0, 0))),
        ("15/12", "es", date(2026, 12, 15), date(2026, 12, 15), d0, d1, None),
        ("12/15", "en", date(2026, 12, 15), date(2026, 12, 15), d0, d1, None),
        ("15 de diciembre", "es", date(2026, 12, 15), date(2026, 12, 15), d0, d1, None),
        ("3 de janeiro às 9h", "pt", date(2027, 1, 3), date(2027, 1, 3), d0, d1, Some(time(9, 0, 0, 0))),
        ("December 15 at 10", "en", date(2026, 12, 15), date(2026, 12, 15), d0, d1, ten),
        ("segunda de manhã", "pt", date(2026, 12, 7), date(2026, 12, 7), morning.0, morning.1, None),
        ("amanhã à tarde", "pt", date(2026, 12, 2), date(2026, 12, 2), afternoon.0, afternoon.1, None),
        ("next Monday morning", "en", date(2026, 12, 7), date(2026, 12, 7), morning.0, morning.1, None),
        ("tomorrow evening", "en", date(2026, 12, 2), date(2026, 12, 2), evening.0, evening.1, None),
        ("la semana que viene", "es", date(2026, 12, 7), date(2026, 12, 13), d0, d1, None),
        ("pasado mañana por la mañana", "es", date(2026, 12, 3), date(2026, 12, 3), morning.0, morning.1, None),
        ("lo antes posible", "es", TODAY, date(2027, 1, 30), d0, d1, None),
        ("o quanto antes", "pt", TODAY, date(2027, 1, 30), d0, d1, None),
        ("as soon as possible", "en", TODAY, date(2027, 1, 30), d0, d1, None),
        ("hoy a la noche", "es", TODAY, TODAY, evening.0, evening.1, None),
        ("el martes", "es", date(2026, 12, 8), date(2026, 12, 8), d0, d1, None),
        ("1/11", "es", date(2027, 11, 1), date(2027, 11, 1), d0, d1, None),
    ]
}

#[test]
fn phrases_people_write_read_as_the_days_and_hours_they_mean() {
    let mut wrong = Vec::new();
    for (text, lang, first, last, from, until, near) in rows() {
        let want = Window {
            first,
            last,
            from,
            until,
            near,
        };
        match read(text, lang) {
            Some(w) if w.window(TODAY) == want => {}
            got => wrong.push(format!(
                "{text:?}: {got:?} → {:?}",
                got.map(|w| w.window(TODAY))
            )),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn text_that_says_nothing_about_when_is_no_wish() {
    for text in [
        "hola",
        "Ana Silva",
        "1",
        "3",
        "sí",
        "quiero un turno",
        "cancelar",
        "mis turnos",
        "gracias",
        "ok 👍",
        "+54 9 11 5555 1234",
    ] {
        let got = read(text, "es");
        assert!(got.is_none(), "{text:?} read as {got:?}");
    }
}
