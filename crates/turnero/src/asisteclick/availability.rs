//! AsisteClick asks "which of these slots are free?": it sends the slots its own engine made
//! and shows exactly what comes back. Each slot is kept only if a booking could start there
//! now (the booking window, the hours, time off, bookings, live holds and capacity: the same
//! check a booking goes through), and kept as AsisteClick sent it, byte for byte in meaning.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::value::RawValue;
use serde_json::Value;
use turnero_core::capacity::Interval;
use turnero_core::ids::{CalendarId, ServiceId, TenantId};

use super::{normalize_key, parse_instant, parse_offset, Lenient};
use crate::agenda::bookings::{check_bookable, MAX_BLOCK_SECONDS};
use crate::agenda::slots::{self, SlotSearch};
use crate::agenda::snapshot::SnapshotCache;
use crate::db::Db;
use crate::error::{Error, Result};

/// How far around the asked slots "earlier" / "later" look for free time.
const NEIGHBOURHOOD: i64 = 14 * 86_400;
/// The widest spread of slots one request may carry.
const MAX_SPREAD: i64 = 93 * 86_400;

/// An availability request: its scalar fields, readable leniently, and the slots exactly as
/// they were written (so the kept ones go back byte for byte, keys in their order).
pub struct Request {
    pub fields: Value,
    pub slots: Vec<Box<RawValue>>,
}

impl Request {
    pub fn parse(body: &[u8]) -> Result<Self> {
        let malformed = |why: &str| Error::bad_request("malformed_request", why.to_string());
        let top: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(body)
            .map_err(|_| malformed("the body must be a JSON object"))?;
        let mut fields = serde_json::Map::new();
        let mut slots = Vec::new();
        for (k, raw) in top {
            if normalize_key(&k) == "slots" {
                slots = serde_json::from_str::<Option<Vec<Box<RawValue>>>>(raw.get())
                    .map_err(|_| malformed("`slots` must be an array"))?
                    .unwrap_or_default();
            } else {
                fields.insert(k, serde_json::from_str(raw.get())?);
            }
        }
        Ok(Request {
            fields: Value::Object(fields),
            slots,
        })
    }

    fn get(&self, name: &str) -> Option<&Value> {
        Lenient::of(&self.fields)?.get(name)
    }

    /// AsisteClick's calendar, as text (`5` and `"5"` alike).
    pub fn calendar_id(&self) -> Option<String> {
        Lenient::of(&self.fields)?.text("calendar_id")
    }

    /// Each slot's start, in request order; `None` for a slot whose time cannot be read (it
    /// is dropped: nothing can vouch for it).
    pub fn starts(&self) -> Vec<Option<i64>> {
        let offset = self.get("timezone").and_then(parse_offset);
        self.slots
            .iter()
            .map(|raw| {
                let slot: Value = serde_json::from_str(raw.get()).ok()?;
                let s = Lenient::of(&slot)?;
                s.text("iso")
                    .and_then(|t| parse_instant(&t, None))
                    .or_else(|| parse_instant(&s.text("isoLocal")?, offset))
            })
            .collect()
    }
}

/// `{"slots": [...], "showBeforeButton": b, "showAfterButton": a}` with the slots as sent.
pub fn answer(slots: &[&RawValue], before: bool, after: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + slots.iter().map(|s| s.get().len() + 1).sum::<usize>());
    out.extend_from_slice(b"{\"slots\":[");
    for (i, s) in slots.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(s.get().as_bytes());
    }
    out.extend_from_slice(
        format!("],\"showBeforeButton\":{before},\"showAfterButton\":{after}}}").as_bytes(),
    );
    out
}

/// The answer AsisteClick expects: the free slots untouched, and whether to offer buttons for
/// earlier and later times.
pub async fn vet(
    db: &Db,
    cache: &SnapshotCache,
    tenant: &TenantId,
    calendar: &CalendarId,
    service: &ServiceId,
    request: &Request,
    now: Timestamp,
) -> Result<Vec<u8>> {
    let starts = request.starts();
    let count = request
        .get("count")
        .and_then(Value::as_u64)
        .filter(|c| *c > 0);
    let known: Vec<i64> = starts.iter().flatten().copied().collect();
    let (Some(&first), Some(&last)) = (known.iter().min(), known.iter().max()) else {
        return Ok(answer(&[], false, false));
    };
    if last - first > MAX_SPREAD {
        return Err(Error::bad_request(
            "range_too_large",
            "the slots span more than 93 days",
        ));
    }
    let around = Interval::new(first - NEIGHBOURHOOD, last + NEIGHBOURHOOD);
    // Nothing before now can be free, so the search starts at now at the earliest; that also
    // keeps it inside what the calendar's cache holds (a week back), where two weeks before
    // the first slot sent every call to the database.
    let from = around.start.max(now.as_second()).min(around.end);
    // Rules reach past the last start by the longest appointment, which may end there.
    let search = SlotSearch {
        tenant,
        calendar,
        service,
        range: Interval::new(from, around.end + MAX_BLOCK_SECONDS),
        moving: None,
        now,
    };
    let snap = slots::inputs(db, cache, &search).await?;
    let mut kept: Vec<&RawValue> = request
        .slots
        .iter()
        .zip(&starts)
        .filter(|(_, start)| {
            start.is_some_and(|s| check_bookable(&snap, s, now.as_second()).is_ok())
        })
        .map(|(slot, _)| slot.as_ref())
        .collect();
    let cut = count.is_some_and(|c| kept.len() as u64 > c);
    if let Some(c) = count {
        kept.truncate(c as usize);
    }
    let any_free = |range: Interval| {
        range.end > range.start && !snap.free(now, range, None, Some(1)).slots.is_empty()
    };
    let before = any_free(Interval::new(from, first));
    let after = cut || any_free(Interval::new(last + 1, around.end));
    Ok(answer(&kept, before, after))
}
