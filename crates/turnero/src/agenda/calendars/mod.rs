//! Calendars (a professional, room or resource): their definition, weekly hours and booking
//! policy, and the booking lock. Date overrides and time off live in `exceptions`; reading all
//! of it as `turnero-core` schedule rules is `agenda::snapshot`.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use turnero_core::event;
use turnero_core::ids::{CalendarId, TenantId};
use turnero_core::schedule::Policy;
use turnero_core::time::{parse_time_zone, parse_weekday, DayRange, TimeOfDay, WEEKDAYS};
use utoipa::ToSchema;

use crate::agenda::events;
use crate::db::{Batch, Changed, Db};
use crate::error::{Error, Result};

mod exceptions;

pub use exceptions::{
    add_time_off, delete_override, delete_time_off, list_overrides, list_time_off, put_override,
    Override, TimeOff,
};

/// One opening range on a weekday, in the calendar's local time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct WeeklyRange {
    /// `mon` … `sun`.
    pub weekday: String,
    /// `HH:MM`, local.
    pub start: String,
    /// `HH:MM`, local; `24:00` is the end of the day.
    pub end: String,
}

/// Opening range inside one day, `HH:MM` local.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct HoursRange {
    pub start: String,
    pub end: String,
}

/// When people may book, cancel and reschedule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyDto {
    pub min_notice_minutes: u32,
    pub max_days_ahead: u32,
    pub cancel_cutoff_minutes: u32,
    pub reschedule_cutoff_minutes: u32,
}

impl Default for PolicyDto {
    fn default() -> Self {
        Policy::default().into()
    }
}

impl From<Policy> for PolicyDto {
    fn from(p: Policy) -> Self {
        Self {
            min_notice_minutes: p.min_notice_minutes,
            max_days_ahead: p.max_days_ahead,
            cancel_cutoff_minutes: p.cancel_cutoff_minutes,
            reschedule_cutoff_minutes: p.reschedule_cutoff_minutes,
        }
    }
}

impl PolicyDto {
    pub fn to_core(self) -> Policy {
        Policy {
            min_notice_minutes: self.min_notice_minutes,
            max_days_ahead: self.max_days_ahead,
            cancel_cutoff_minutes: self.cancel_cutoff_minutes,
            reschedule_cutoff_minutes: self.reschedule_cutoff_minutes,
        }
    }

    pub fn validate(&self, field: &str) -> Result<()> {
        if self.max_days_ahead == 0 || self.max_days_ahead > 3650 {
            return Err(Error::invalid(
                "invalid_policy",
                format!("{field}.max_days_ahead"),
                "must be between 1 and 3650 days",
            ));
        }
        let minutes = [
            ("min_notice_minutes", self.min_notice_minutes),
            ("cancel_cutoff_minutes", self.cancel_cutoff_minutes),
            ("reschedule_cutoff_minutes", self.reschedule_cutoff_minutes),
        ];
        for (name, value) in minutes {
            if value > 525_600 {
                return Err(Error::invalid(
                    "invalid_policy",
                    format!("{field}.{name}"),
                    "must be at most a year (525600 minutes)",
                ));
            }
        }
        Ok(())
    }
}

/// A calendar as the agenda knows it: its zone, hours and policy already read as rules.
/// `Serialize` writes the published form events carry (the API's `CalendarOut` answers the
/// same); the availability API stays out of it, since its URL may carry a credential.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub id: String,
    pub name: String,
    /// `professional`, `room` or `resource`.
    pub kind: String,
    pub zone: TimeZone,
    pub location: Option<String>,
    /// How many bookings may overlap at once.
    pub capacity: u32,
    /// Opening ranges per weekday, Monday first, sorted and not overlapping.
    pub weekly: [Vec<DayRange>; 7],
    pub policy: Policy,
    /// Set when another system's agenda decides which of this calendar's slots are free
    /// (AsisteClick's protocol). Shown only by `GET /calendars/{id}/availability-api`.
    pub availability_api: Option<AvailabilityApi>,
    /// Set when it was deleted while holding bookings: kept for them, offered no more.
    pub archived_at: Option<jiff::Timestamp>,
}

impl Calendar {
    /// The IANA zone name, e.g. `America/Argentina/Buenos_Aires`.
    pub fn timezone(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }
}

/// The published form, field for field in the order the API shows it.
#[derive(Serialize)]
struct Published<'a> {
    id: &'a str,
    name: &'a str,
    kind: &'a str,
    timezone: &'a str,
    location: &'a Option<String>,
    capacity: u32,
    weekly_hours: Vec<WeeklyRange>,
    policy: PolicyDto,
    archived_at: Option<String>,
}

impl Serialize for Calendar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Published {
            id: &self.id,
            name: &self.name,
            kind: &self.kind,
            timezone: self.timezone(),
            location: &self.location,
            capacity: self.capacity,
            weekly_hours: canonical_weekly(&self.weekly),
            policy: self.policy.into(),
            archived_at: self.archived_at.map(turnero_core::time::fmt_utc),
        }
        .serialize(s)
    }
}

/// Where to ask which slots are free, and how to name this calendar there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityApi {
    pub url: String,
    /// Sent as `calendar_id` (a number when it reads as one, as AsisteClick's are).
    pub external_calendar_id: String,
    /// After this, turnero's own slots are offered (and the fallback recorded).
    pub timeout_ms: u64,
    /// The webhook that sends this calendar's bookings there as AsisteClick callbacks.
    pub webhook_id: Option<String>,
}

/// A validated calendar definition.
pub struct CalendarDef {
    pub name: String,
    pub kind: String,
    pub zone: TimeZone,
    pub location: Option<String>,
    pub capacity: u32,
    pub weekly: [Vec<DayRange>; 7],
    pub policy: Policy,
}

pub const KINDS: [&str; 3] = ["professional", "room", "resource"];

/// Parses weekly hours into per-weekday sorted ranges, refusing overlaps.
pub fn parse_weekly(ranges: &[WeeklyRange]) -> Result<[Vec<DayRange>; 7]> {
    let mut week: [Vec<(DayRange, usize)>; 7] = Default::default();
    for (i, r) in ranges.iter().enumerate() {
        let field = |f: &str| format!("weekly_hours[{i}].{f}");
        let day = parse_weekday(&r.weekday)
            .map_err(|e| Error::invalid("invalid_weekday", field("weekday"), e))?;
        let range = parse_range(&r.start, &r.end, &format!("weekly_hours[{i}]"))?;
        week[day].push((range, i));
    }
    let mut out: [Vec<DayRange>; 7] = Default::default();
    for (day, ranges) in week.iter_mut().enumerate() {
        ranges.sort();
        for pair in ranges.windows(2) {
            if pair[1].0.start < pair[0].0.end {
                return Err(Error::invalid(
                    "overlapping_hours",
                    format!("weekly_hours[{}]", pair[1].1),
                    format!("overlaps another range on {}", WEEKDAYS[day]),
                ));
            }
        }
        out[day] = ranges.iter().map(|(r, _)| *r).collect();
    }
    Ok(out)
}

/// Parses one `HH:MM`–`HH:MM` range; `field` names it in errors.
pub fn parse_range(start: &str, end: &str, field: &str) -> Result<DayRange> {
    let s = TimeOfDay::parse(start)
        .map_err(|e| Error::invalid("invalid_time", format!("{field}.start"), e))?;
    let e = TimeOfDay::parse(end)
        .map_err(|e| Error::invalid("invalid_time", format!("{field}.end"), e))?;
    if s == TimeOfDay::END_OF_DAY {
        return Err(Error::invalid(
            "invalid_time",
            format!("{field}.start"),
            "a range cannot start at 24:00",
        ));
    }
    DayRange::new(s, e).map_err(|err| Error::invalid("invalid_range", field.to_string(), err))
}

/// Normalizes stored weekly hours to canonical spelling (`mon`, `09:00`), sorted.
pub fn canonical_weekly(week: &[Vec<DayRange>; 7]) -> Vec<WeeklyRange> {
    week.iter()
        .enumerate()
        .flat_map(|(d, ranges)| {
            ranges.iter().map(move |r| WeeklyRange {
                weekday: WEEKDAYS[d].to_string(),
                start: r.start.to_string(),
                end: r.end.to_string(),
            })
        })
        .collect()
}

pub fn validate_timezone(tz: &str, field: &str) -> Result<()> {
    parse_zone(tz, field).map(|_| ())
}

/// An IANA zone name as a zone, or a 422 naming the field.
pub fn parse_zone(tz: &str, field: &str) -> Result<TimeZone> {
    parse_time_zone(tz).map_err(|_| {
        Error::invalid(
            "invalid_timezone",
            field,
            format!("`{tz}` is not an IANA time zone (like America/Sao_Paulo)"),
        )
    })
}

pub(crate) const COLUMNS: &str =
    "id, name, kind, timezone, location, capacity, weekly_hours, policy, availability_api, \
    archived_at";
/// [`COLUMNS`] of a query that names the calendars table `c`.
pub(crate) const COLUMNS_OF_C: &str = "c.id, c.name, c.kind, c.timezone, c.location, c.capacity, \
    c.weekly_hours, c.policy, c.availability_api, c.archived_at";
/// How many columns [`COLUMNS`] names: a query's own columns come after them.
pub(crate) const COLUMN_COUNT: usize = 10;

/// A calendar from its columns in [`COLUMNS`] order, from `at` on (the slot search reads
/// them joined with others).
pub(crate) fn from_columns(r: &sqlx::any::AnyRow, at: usize) -> Result<Calendar> {
    let weekly: Vec<WeeklyRange> = serde_json::from_str(&r.get::<String, _>(at + 6))?;
    let policy: PolicyDto = serde_json::from_str(&r.get::<String, _>(at + 7))?;
    Ok(Calendar {
        id: r.get(at),
        name: r.get(at + 1),
        kind: r.get(at + 2),
        zone: parse_time_zone(&r.get::<String, _>(at + 3))
            .map_err(|e| anyhow::anyhow!("stored zone: {e}"))?,
        location: r.get(at + 4),
        capacity: r.get::<i64, _>(at + 5) as u32,
        weekly: parse_weekly(&weekly)?,
        policy: policy.to_core(),
        availability_api: parse_availability_api(r.get(at + 8))?,
        archived_at: r.get::<Option<i64>, _>(at + 9).map(crate::agenda::instant),
    })
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Calendar> {
    from_columns(r, 0)
}

/// The stored forms of a definition's zone, hours and policy.
fn stored(def: &CalendarDef) -> Result<(String, String, String)> {
    Ok((
        def.zone.iana_name().unwrap_or("UTC").to_string(),
        serde_json::to_string(&canonical_weekly(&def.weekly))?,
        serde_json::to_string(&PolicyDto::from(def.policy))?,
    ))
}

/// The stored `availability_api` column.
pub fn parse_availability_api(raw: Option<String>) -> Result<Option<AvailabilityApi>> {
    Ok(raw.as_deref().map(serde_json::from_str).transpose()?)
}

pub async fn create(db: &Db, tenant: &TenantId, def: CalendarDef, now: i64) -> Result<Calendar> {
    let id = CalendarId::generate();
    let (timezone, weekly, policy) = stored(&def)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO calendars (id, tenant_id, name, kind, timezone, location, capacity, \
         weekly_hours, policy, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(&def.name)
    .bind(&def.kind)
    .bind(timezone)
    .bind(def.location.clone())
    .bind(i64::from(def.capacity))
    .bind(weekly)
    .bind(policy)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let out = Calendar {
        id: id.into_string(),
        name: def.name,
        kind: def.kind,
        zone: def.zone,
        location: def.location,
        capacity: def.capacity,
        weekly: def.weekly,
        policy: def.policy,
        availability_api: None,
        archived_at: None,
    };
    events::record(&mut tx, tenant, event::CALENDAR_CREATED, &out.id, &out, now).await?;
    db.commit(tx, Changed::Calendar(&out.id)).await?;
    Ok(out)
}

/// Replaces a calendar's definition (the API merges a patch into the current one first).
pub async fn replace(
    db: &Db,
    tenant: &TenantId,
    id: &CalendarId,
    def: CalendarDef,
    now: i64,
) -> Result<Calendar> {
    let (timezone, weekly, policy) = stored(&def)?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE calendars SET name = $1, kind = $2, timezone = $3, location = $4, capacity = $5, \
         weekly_hours = $6, policy = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10 \
         AND archived_at IS NULL",
    )
    .bind(&def.name)
    .bind(&def.kind)
    .bind(timezone)
    .bind(def.location.clone())
    .bind(i64::from(def.capacity))
    .bind(weekly)
    .bind(policy)
    .bind(now)
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        get_in(&mut tx, tenant, id).await?; // 404 when it is not there
        return Err(archived("calendar"));
    }
    let out = get_in(&mut tx, tenant, id).await?;
    events::record(&mut tx, tenant, event::CALENDAR_UPDATED, &out.id, &out, now).await?;
    db.commit(tx, Changed::Calendar(&out.id)).await?;
    Ok(out)
}

pub async fn get(db: &Db, tenant: &TenantId, id: &CalendarId) -> Result<Calendar> {
    let mut conn = db.read.acquire().await?;
    get_in(&mut conn, tenant, id).await
}

pub async fn get_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &CalendarId,
) -> Result<Calendar> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM calendars WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("calendar"))?;
    from_row(&row)
}

pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<Calendar>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM calendars WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY id"
    ))
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The refusal to change what was archived.
pub fn archived(what: &str) -> Error {
    Error::conflict(
        if what == "calendar" {
            "calendar_archived"
        } else {
            "service_archived"
        },
        format!("this {what} was archived (it holds bookings); create a new one instead"),
    )
}

/// Sets (or, with `None`, removes) where the calendar's free slots are decided.
pub async fn set_availability_api(
    db: &Db,
    tenant: &TenantId,
    id: &CalendarId,
    api: Option<&AvailabilityApi>,
    now: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE calendars SET availability_api = $1, updated_at = $2 \
         WHERE tenant_id = $3 AND id = $4",
    )
    .bind(api.map(serde_json::to_string).transpose()?)
    .bind(now)
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    // Slot caches hold the calendar: tell every process it changed.
    db.commit(tx, Changed::Calendar(id.as_str())).await?;
    Ok(())
}

/// Adds the calendar's booking lock to a batch; it holds for the rest of the transaction.
///
/// A write to the calendar row: on PostgreSQL a row lock that serialises every booking on
/// this calendar across processes; on SQLite the database write lock. Between taking it and
/// committing, the capacity check and the insert cannot interleave with another booking.
/// (A calendar of another tenant is not touched; the read that follows then finds nothing.)
pub fn push_lock(batch: &mut Batch, tenant: &TenantId, id: &CalendarId) -> Result<()> {
    batch.push(
        "UPDATE calendars SET lock_seq = lock_seq + 1 WHERE tenant_id = $1 AND id = $2",
        crate::args![tenant.as_str().to_string(), id.as_str().to_string()]?,
    );
    Ok(())
}
