//! The one slot search every caller offers from (`GET /slots`, the bot): the agenda's own free
//! starts, or, on a calendar whose availability another agenda decides, what that agenda
//! answers when asked in AsisteClick's shape. If it is slow, fails or answers nonsense, the
//! agenda's own starts are offered and the reason recorded, so a person always gets an answer.

use std::sync::Arc;

use tracing::Instrument;
use turnero_core::{page, SlotPage};

use super::consult;
use crate::agenda::calendars::Calendar;
use crate::agenda::slots::{self, SlotSearch};
use crate::agenda::snapshot::SnapshotCache;
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

/// Who decided which starts are free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// The agenda (the calendar has no availability API).
    Turnero,
    /// The calendar's availability API.
    External,
    /// The agenda, because the availability API could not be used (the reason is recorded).
    Fallback,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Turnero => "turnero",
            Availability::External => "external",
            Availability::Fallback => "fallback",
        }
    }
}

/// A page of free starts, the calendar they are of, and who decided.
pub struct Offer {
    pub calendar: Arc<Calendar>,
    pub page: SlotPage,
    pub availability: Availability,
}

/// Free starts in the search's range: all of them, or `count` from the first at or after
/// `preferred`.
pub async fn offer(
    db: &Db,
    cache: &SnapshotCache,
    outbound: &Outbound,
    search: &SlotSearch<'_>,
    preferred: Option<i64>,
    count: Option<usize>,
) -> Result<Offer> {
    let snap = slots::inputs(db, cache, search).await?;
    let range = search.range;
    let Some(api) = &snap.calendar.availability_api else {
        return Ok(Offer {
            page: snap.free(search.now, range, preferred, count),
            calendar: snap.calendar,
            availability: Availability::Turnero,
        });
    };
    // Every free start of the range goes out; paging applies to what comes back.
    let all = snap.free(search.now, range, None, None).slots;
    let request = consult::request(
        api,
        &snap.rules.tz,
        &all,
        (range.start, range.end),
        preferred,
        count,
    );
    let (page, availability) =
        match consult::ask(outbound, api, &request, &all, search.now.as_second()).await {
            Ok(kept) => (page(kept, preferred, count), Availability::External),
            Err(fallback) => {
                // Written on the side: the person's answer does not wait on it, and a busy
                // database cannot turn a fallback into an error.
                let (db, tenant, cal) =
                    (db.clone(), search.tenant.clone(), search.calendar.clone());
                let at = search.now.as_second();
                let record = async move {
                    if let Err(e) =
                        consult::record_fallback(&db, &tenant, &cal, &fallback, at).await
                    {
                        tracing::warn!(error = ?e, "recording an availability fallback failed");
                    }
                };
                tokio::spawn(record.instrument(tracing::Span::current()));
                (page(all, preferred, count), Availability::Fallback)
            }
        };
    Ok(Offer {
        calendar: snap.calendar,
        page,
        availability,
    })
}
