//! When a person says they want to come, as they write it in Spanish, Portuguese or
//! English: "mañana a las 10", "el martes a la tarde", "segunda de manhã", "15/12",
//! "next Monday morning", "lo antes posible". [`read`] finds the day, the part of the day
//! and the hour in free text (or nothing, when the text says none of them);
//! [`Wish::window`] turns that into local days and hours once today is known in the
//! calendar's zone. Pure: the bot's slot search does the rest.

use jiff::civil::{Date, Time, Weekday};
use serde::{Deserialize, Serialize};

use crate::chat::{fold, has_phrase};

/// A day as said: relative to today, a weekday, or a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Today,
    Tomorrow,
    DayAfterTomorrow,
    /// The next such weekday after today: 0 is Monday, 6 Sunday.
    Weekday(i8),
    /// Monday to Sunday of next week.
    NextWeek,
    /// A day of a month; the next one from today when no year is said.
    Date {
        month: i8,
        day: i8,
        year: Option<i16>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Morning,
    Afternoon,
    Evening,
}

impl Part {
    fn hours(self) -> (Time, Time) {
        let t = |h, m| Time::constant(h, m, 0, 0);
        match self {
            Part::Morning => (t(6, 0), t(12, 0)),
            Part::Afternoon => (t(12, 0), t(19, 0)),
            Part::Evening => (t(18, 0), t(23, 59)),
        }
    }
}

/// What was asked for; every part optional, at least one present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Wish {
    pub day: Option<Day>,
    pub part: Option<Part>,
    /// An hour (and minute) of the day.
    pub at: Option<Time>,
    /// "As soon as possible": the first free slots.
    pub asap: bool,
}

/// Local days (inclusive) and hours a wish covers, and the hour it prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: Date,
    pub last: Date,
    pub from: Time,
    pub until: Time,
    /// Slots nearest this time of day come first.
    pub near: Option<Time>,
}

/// How far a wish without a day looks ahead (a part of the day or an hour, on any day).
const ANY_DAY_SPAN: i32 = 13;

impl Wish {
    pub fn window(&self, today: Date) -> Window {
        let days = |n: i32| {
            today
                .checked_add(jiff::Span::new().days(n))
                .unwrap_or(today)
        };
        let (first, last) = match self.day {
            None if self.asap => (today, days(60)),
            None => (today, days(ANY_DAY_SPAN)),
            Some(Day::Today) => (today, today),
            Some(Day::Tomorrow) => (days(1), days(1)),
            Some(Day::DayAfterTomorrow) => (days(2), days(2)),
            Some(Day::Weekday(w)) => {
                let ahead = (w - today.weekday().to_monday_zero_offset()).rem_euclid(7);
                let d = days(i32::from(if ahead == 0 { 7 } else { ahead }));
                (d, d)
            }
            Some(Day::NextWeek) => {
                let to_monday = 7 - i32::from(today.weekday().to_monday_zero_offset());
                (days(to_monday), days(to_monday + 6))
            }
            Some(Day::Date { month, day, year }) => {
                let in_year = |y: i16| Date::new(y, month, day).ok();
                let d = match year {
                    Some(y) => in_year(y),
                    None => in_year(today.year())
                        .filter(|d| *d >= today)
                        .or_else(|| in_year(today.year() + 1)),
                }
                .unwrap_or(today);
                (d, d)
            }
        };
        let (from, until) = match (self.part, self.at) {
            (Some(p), _) => p.hours(),
            _ => (Time::MIN, Time::MAX),
        };
        Window {
            first,
            last,
            from,
            until,
            near: self.at,
        }
    }
}

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("lunes", Weekday::Monday),
    ("martes", Weekday::Tuesday),
    ("miercoles", Weekday::Wednesday),
    ("jueves", Weekday::Thursday),
    ("viernes", Weekday::Friday),
    ("sabado", Weekday::Saturday),
    ("domingo", Weekday::Sunday),
    ("segunda", Weekday::Monday),
    ("terca", Weekday::Tuesday),
    ("quarta", Weekday::Wednesday),
    ("quinta", Weekday::Thursday),
    ("sexta", Weekday::Friday),
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

const MONTHS: &[(&str, i8)] = &[
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("marco", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
];

const ASAP: &[&str] = &[
    "lo antes posible",
    "lo mas pronto",
    "cuanto antes",
    "lo primero que haya",
    "el primero disponible",
    "primer turno disponible",
    "o quanto antes",
    "o mais rapido",
    "o mais cedo",
    "mais cedo possivel",
    "o primeiro disponivel",
    "asap",
    "as soon as possible",
    "earliest",
    "soonest",
    "first available",
];

/// Words before an hour: "a las 10", "às 10", "at 10".
const BEFORE_HOUR: &[&str] = &["las", "la", "as", "at", "a"];

/// Words before "mañana"/"tarde"/"noche" that make them a part of the day, not a day.
const BEFORE_PART: &[&str] = &["la", "de", "por", "esta", "a", "pela", "da", "the", "in"];

fn words(text: &str) -> Vec<String> {
    let folded = fold(text);
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == ':' || c == '/'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// "10", "10:30", "10h", "10hs", "10h30", "10am", "3pm", "10hrs" → (hour, minute, am/pm).
fn hour_token(w: &str) -> Option<(i8, i8, Option<bool>)> {
    let (w, pm) = if let Some(h) = w.strip_suffix("am") {
        (h, Some(false))
    } else if let Some(h) = w.strip_suffix("pm") {
        (h, Some(true))
    } else {
        (w, None)
    };
    let (h, m) = if let Some((h, m)) = w.split_once(':') {
        (h, m)
    } else if let Some((h, m)) = w.split_once('h') {
        let m = m.trim_start_matches("rs").trim_start_matches('s');
        (h, if m.is_empty() { "0" } else { m })
    } else {
        (w, "0")
    };
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    ((0..=23).contains(&h) && (0..=59).contains(&m)).then_some((h, m, pm))
}

fn make_time(h: i8, m: i8, pm: Option<bool>) -> Option<Time> {
    let h = match pm {
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        // No am/pm: "a las 5" at a clinic is five in the afternoon.
        None if (1..=7).contains(&h) => h + 12,
        _ => h,
    };
    Time::new(h, m, 0, 0).ok()
}

/// "15/12", "15/12/2026", "12/15" (English) → a date as said.
fn date_token(w: &str, language: &str) -> Option<Day> {
    let parts: Vec<&str> = w.split('/').collect();
    let (a, b, y) = match parts[..] {
        [a, b] => (a, b, None),
        [a, b, y] => (a, b, Some(y)),
        _ => return None,
    };
    let a: i8 = a.parse().ok()?;
    let b: i8 = b.parse().ok()?;
    let year = match y {
        None => None,
        Some(y) if y.len() == 2 => Some(2000 + y.parse::<i16>().ok()?),
        Some(y) => Some(y.parse::<i16>().ok()?),
    };
    let valid = |month: i8, day: i8| (1..=12).contains(&month) && (1..=31).contains(&day);
    let (month, day) = if language == "en" && valid(a, b) {
        (a, b)
    } else if valid(b, a) {
        (b, a)
    } else if valid(a, b) {
        (a, b)
    } else {
        return None;
    };
    Some(Day::Date { month, day, year })
}

fn month_of(w: &str) -> Option<i8> {
    MONTHS.iter().find(|(name, _)| *name == w).map(|(_, m)| *m)
}

/// What the text says about when, or `None` when it says nothing about it. `language`
/// only decides how `12/05` reads (month first in English).
pub fn read(text: &str, language: &str) -> Option<Wish> {
    let w = words(text);
    let has = |phrase: &str| has_phrase(&w, phrase);
    let mut wish = Wish {
        asap: ASAP.iter().any(|p| has(p)),
        ..Wish::default()
    };
    if has("pasado manana") || has("depois de amanha") || has("day after tomorrow") {
        wish.day = Some(Day::DayAfterTomorrow);
    }
    if has("semana que viene") || has("proxima semana") || has("semana que vem") || has("next week")
    {
        wish.day = Some(Day::NextWeek);
    }
    for (i, word) in w.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| w[p].as_str()).unwrap_or("");
        let next = w.get(i + 1).map(String::as_str).unwrap_or("");
        let part_here = BEFORE_PART.contains(&prev);
        match word.as_str() {
            "hoy" | "hoje" | "today" => wish.day = wish.day.or(Some(Day::Today)),
            "tonight" => {
                wish.day = wish.day.or(Some(Day::Today));
                wish.part = Some(Part::Evening);
            }
            "manana" if part_here => wish.part = Some(Part::Morning),
            "manana" | "amanha" | "tomorrow" => wish.day = wish.day.or(Some(Day::Tomorrow)),
            "manha" | "morning" => wish.part = Some(Part::Morning),
            "tarde" | "afternoon" => wish.part = Some(Part::Afternoon),
            "noche" | "noite" | "evening" | "night" => wish.part = Some(Part::Evening),
            "mediodia" | "noon" => wish.at = Some(Time::constant(12, 0, 0, 0)),
            "meio" if next == "dia" => wish.at = Some(Time::constant(12, 0, 0, 0)),
            _ => {}
        }
        if let Some((_, day)) = WEEKDAYS.iter().find(|(name, _)| name == word) {
            wish.day = Some(Day::Weekday(day.to_monday_zero_offset()));
        }
        if let Some(day) = date_token(word, language) {
            wish.day = Some(day);
            continue;
        }
        // "15 de diciembre", "15 diciembre", "december 15".
        if let Ok(n) = word.parse::<i8>() {
            let after = if next == "de" {
                w.get(i + 2)
            } else {
                w.get(i + 1)
            };
            let month = after.and_then(|m| month_of(m)).or_else(|| month_of(prev));
            if let Some(month) = month.filter(|_| (1..=31).contains(&n)) {
                wish.day = Some(Day::Date {
                    month,
                    day: n,
                    year: None,
                });
                continue;
            }
        }
        // An hour: marked ("10h", "10:30", "10am"), or after "a las" / "às" / "at".
        if let Some((h, m, pm)) = hour_token(word) {
            let marked = word.contains(':') || word.contains('h') || pm.is_some();
            let after_word = BEFORE_HOUR.contains(&prev);
            let pm = match (pm, next) {
                (None, "am") => Some(false),
                (None, "pm") => Some(true),
                (pm, _) => pm,
            };
            let hours_word = matches!(next, "horas" | "hs" | "hrs" | "h" | "am" | "pm");
            if marked || after_word || hours_word {
                let half = matches!(
                    (next, w.get(i + 2).map(String::as_str)),
                    ("y" | "e", Some("media" | "meia"))
                );
                let m = if half && m == 0 { 30 } else { m };
                if let Some(t) = make_time(h, m, pm) {
                    wish.at = Some(t);
                }
            }
        }
    }
    let said = wish.day.is_some() || wish.part.is_some() || wish.at.is_some() || wish.asap;
    said.then_some(wish)
}

#[cfg(test)]
mod tests;
