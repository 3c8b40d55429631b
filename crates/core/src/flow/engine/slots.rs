//! Offering slots: the page request, the page shown grouped by day with earlier / later,
//! the pick (held, or kept as is when a booking is being moved), and the way back to the
//! offer when the slot was taken meanwhile.

use std::collections::BTreeMap;

use super::{choice, item_choice, Run};
use crate::chat::{Choice, Question, Section};
use crate::flow::labels;
use crate::flow::model::Step;
use crate::flow::protocol::{Item, Request, SlotItem};
use crate::flow::vars::render;
use crate::wish::{Day, Wish};

/// Rows WhatsApp shows in one list.
const MAX_ROWS: usize = 10;

/// A page of slots as the agenda answered it.
pub(super) struct SlotPage {
    pub slots: Vec<SlotItem>,
    pub earlier: bool,
    pub later: bool,
    /// Nothing was free when the person asked; these are the nearest.
    pub missed: bool,
}

impl Run<'_> {
    pub(super) fn slots(
        &self,
        after: Option<i64>,
        before: Option<i64>,
        count: u8,
        wish: Option<Wish>,
    ) -> Request {
        let calendar = Some(self.var("calendar")).filter(|c| !c.is_empty() && c != "any");
        Request::Slots {
            service: self.var("service"),
            calendar,
            after,
            before,
            count: usize::from(count),
            booking: self.state.vars.get("rescheduling").cloned(),
            wish,
        }
    }

    pub(super) fn offer(&mut self, text: &str, page: SlotPage) {
        let SlotPage {
            slots,
            earlier,
            later,
            missed,
        } = page;
        if slots.is_empty() && !earlier && !later {
            self.say(&self.flow.messages.no_slots.clone());
            return self.finish();
        }
        if missed {
            self.say_builtin("wish_missed");
        }
        let lang = self.flow.language.clone();
        let any = self.var("calendar") == "any";
        let mut sections: Vec<Section> = Vec::new();
        let mut names = BTreeMap::new();
        for s in &slots {
            let day = labels::day(&lang, s.start, s.offset_seconds);
            if sections.last().and_then(|x| x.title.as_deref()) != Some(day.as_str()) {
                sections.push(Section {
                    title: Some(day),
                    options: vec![],
                });
            }
            names.insert(s.calendar.clone(), s.calendar_name.clone());
            let c = Choice {
                id: format!("slot:{}:{}:{}", s.calendar, s.start, s.offset_seconds),
                title: labels::time(s.start, s.offset_seconds),
                description: any.then(|| s.calendar_name.clone()),
            };
            sections.last_mut().expect("pushed above").options.push(c);
        }
        if any {
            let names = serde_json::to_string(&names).unwrap_or_default();
            self.state.vars.insert("_any_names".into(), names);
        }
        let m = &self.flow.messages;
        let mut nav = Vec::new();
        if earlier {
            nav.push(choice("earlier", &m.earlier.clone()));
        }
        if later {
            nav.push(choice("later", &m.later.clone()));
        }
        nav.push(choice("other_day", &self.builtin("other_day")));
        // WhatsApp shows ten rows: the last slots give way to the navigation.
        let room = MAX_ROWS - nav.len();
        let mut shown = 0;
        for s in &mut sections {
            let keep = s.options.len().min(room - shown);
            s.options.truncate(keep);
            shown += keep;
        }
        sections.retain(|s| !s.options.is_empty());
        let slots = &slots[..shown.min(slots.len())];
        if !nav.is_empty() {
            sections.push(Section {
                title: Some("···".into()),
                options: nav,
            });
        }
        self.state.page = match (slots.first(), slots.last()) {
            (Some(f), Some(l)) => Some((f.start, l.start)),
            _ => self.state.page,
        };
        let q = Question {
            body: render(text, &self.state.vars),
            button: self.flow.messages.list_button.clone(),
            sections,
            ..Question::default()
        };
        self.ask(q)
    }

    pub(super) fn slot_chosen(&mut self, id: &str, page_size: u8, hold_minutes: u32) {
        let page = self.state.page;
        match id {
            "earlier" => {
                let r = self.slots(None, page.map(|p| p.0), page_size, None);
                return self.need(r);
            }
            "later" => {
                let r = self.slots(page.map(|p| p.1), None, page_size, None);
                return self.need(r);
            }
            "other_day" => {
                let calendar = Some(self.var("calendar")).filter(|c| !c.is_empty() && c != "any");
                return self.need(Request::Days {
                    service: self.var("service"),
                    calendar,
                    booking: self.state.vars.get("rescheduling").cloned(),
                });
            }
            _ => {}
        }
        if let Some(day) = id.strip_prefix("day:") {
            // A day from "another day": its slots, as if the person had typed the date.
            let wish = day.parse::<jiff::civil::Date>().ok().map(|d| Wish {
                day: Some(Day::Date {
                    month: d.month(),
                    day: d.day(),
                    year: Some(d.year()),
                }),
                ..Wish::default()
            });
            let r = self.slots(None, None, page_size, wish);
            return self.need(r);
        }
        let mut parts = id.splitn(4, ':');
        let (Some("slot"), Some(calendar), Some(start), Some(offset)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return self.enter(&self.state.at.clone().unwrap_or_default());
        };
        let start: i64 = start.parse().unwrap_or_default();
        let offset: i32 = offset.parse().unwrap_or_default();
        let lang = &self.flow.language;
        self.state.vars.insert("slot".into(), start.to_string());
        self.state
            .vars
            .insert("slot_text".into(), labels::when(lang, start, offset));
        // `calendar` keeps what the person chose ("any" included), so a slot taken meanwhile
        // is followed by every calendar's slots again; the slot's own calendar goes apart.
        self.state
            .vars
            .insert("slot_calendar".into(), calendar.into());
        if self.var("calendar") == "any" {
            let name = self.state.vars.get("_any_names").and_then(|names| {
                serde_json::from_str::<BTreeMap<String, String>>(names)
                    .ok()
                    .and_then(|m| m.get(calendar).cloned())
            });
            if let Some(name) = name {
                self.state.vars.insert("calendar_name".into(), name);
            }
        }
        if self.state.vars.contains_key("rescheduling") {
            // A booking being moved needs no hold: the move itself checks the slot.
            return self.after_offer();
        }
        if let Some(old) = self.state.vars.remove("hold") {
            self.p.release = Some(old);
        }
        self.need(Request::Hold {
            calendar: calendar.into(),
            service: self.var("service"),
            start,
            minutes: hold_minutes,
        })
    }

    /// The next days with room, to pick one from.
    pub(super) fn offer_days(&mut self, days: Vec<Item>) {
        if days.is_empty() {
            self.say(&self.flow.messages.no_slots.clone());
            return self.finish();
        }
        let text = self.builtin("which_day");
        let q = self.question(&text, days.into_iter().map(item_choice).collect());
        self.ask(q)
    }

    pub(super) fn after_offer(&mut self) {
        let next = match self.current() {
            Some((_, Step::OfferSlots { next, .. })) => next.clone(),
            _ => return self.finish(),
        };
        self.enter(&next)
    }

    pub(super) fn back_to_offer(&mut self) {
        self.say(&self.flow.messages.slot_taken.clone());
        self.state.vars.remove("hold");
        match self.state.offer_step.clone() {
            Some(offer) => self.enter(&offer),
            None => self.finish(),
        }
    }
}
