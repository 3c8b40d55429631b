//! "Send now" (seed 003's *Enviar agora*): what a rule would send for one day's bookings,
//! due at once. A booking whose message for that appointment was already sent is not sent
//! again; one still planned for later is brought forward into the run.

use jiff::civil::Date;
use sqlx::Row;
use turnero_core::ids::{next_ulid, TenantId};

use super::rules::{Rule, When};
use crate::agenda::plans::{ANCHOR_AT, IN_SCOPE};
use crate::db::Db;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub rule_id: String,
    pub day: String,
    pub created_at: i64,
}

/// Starts a run of `rule` for the bookings whose start falls on `day` in their calendar's
/// zone (not a day already past in the tenant's zone). The rows are written now; the sender
/// picks them up at once.
pub async fn start(db: &Db, tenant: &TenantId, rule: &Rule, day: Date, now: i64) -> Result<Run> {
    if matches!(rule.def.when, When::On(_)) {
        return Err(Error::conflict(
            "not_for_a_day",
            "a rule sent on a booking event has no day to run for",
        ));
    }
    let zone = crate::agenda::tenants::get(db, tenant).await?.timezone;
    let today = jiff::tz::TimeZone::get(&zone).ok().and_then(|tz| {
        jiff::Timestamp::from_second(now)
            .ok()
            .map(|t| t.to_zoned(tz).date())
    });
    if today.is_some_and(|today| day < today) {
        return Err(Error::invalid(
            "past_date",
            "date",
            "a day already past has nobody left to remind",
        ));
    }
    let calendars = sqlx::query("SELECT id, timezone FROM calendars WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_all(&db.read)
        .await?;
    let run = Run {
        id: format!("nrn_{}", next_ulid()),
        rule_id: rule.id.clone(),
        day: day.to_string(),
        created_at: now,
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO notification_runs (id, tenant_id, rule_id, day, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&run.id)
    .bind(tenant.as_str())
    .bind(&rule.id)
    .bind(&run.day)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for cal in &calendars {
        let (cal_id, zone): (String, String) = (cal.get(0), cal.get(1));
        let Ok(tz) = jiff::tz::TimeZone::get(&zone) else {
            continue;
        };
        let (from, to) = day_range(day, &tz)?;
        let binds = DayBinds {
            now,
            run: &run.id,
            tenant: tenant.as_str(),
            calendar: &cal_id,
            from,
            to,
            rule: &rule.id,
        };
        // Appointments of that day still ahead (earlier ones today are over).
        let live = "b.tenant_id = $3 AND b.calendar_id = $4 AND b.start_at >= $5 \
             AND b.start_at < $6 AND b.status IN ('pending', 'confirmed') AND b.start_at > $1";
        // Those that failed, were missed or skipped go again (the clinic fixed a template, a
        // number): planned afresh, every channel tried anew.
        let sql = format!(
            "UPDATE notification_plans SET state = 'planned', due_at = $1, run_id = $2, \
             tried = '', reason = NULL, channel = NULL, conversation_id = NULL, outbox_id = NULL, \
             updated_at = $1 WHERE state IN ('failed', 'missed', 'skipped') AND booking_id IN \
             (SELECT b.id FROM bookings b WHERE {live}) AND rule_id = $7"
        );
        binds.run(&mut tx, &sql).await?;
        // Still planned for later: into this run, due now.
        let sql = format!(
            "UPDATE notification_plans SET due_at = $1, run_id = $2, updated_at = $1 \
             WHERE state = 'planned' AND booking_id IN \
             (SELECT b.id FROM bookings b WHERE {live}) AND rule_id = $7"
        );
        binds.run(&mut tx, &sql).await?;
        // Not planned at all (made before the rule, or too late for its time): new rows.
        let sql = format!(
            "INSERT INTO notification_plans (tenant_id, rule_id, booking_id, anchor_at, due_at, \
             state, run_id, created_at, updated_at) \
             SELECT b.tenant_id, r.id, b.id, {ANCHOR_AT}, $1, 'planned', $2, $1, $1 \
             FROM bookings b JOIN notification_rules r ON r.tenant_id = b.tenant_id \
             WHERE {live} AND r.id = $7 AND {IN_SCOPE} \
             ON CONFLICT (rule_id, booking_id, anchor_at) DO NOTHING"
        );
        binds.run(&mut tx, &sql).await?;
    }
    db.commit_events(tx).await?;
    Ok(run)
}

/// The arguments every statement of a run's day takes, `$1` to `$7` in this order.
struct DayBinds<'a> {
    now: i64,
    run: &'a str,
    tenant: &'a str,
    calendar: &'a str,
    from: i64,
    to: i64,
    rule: &'a str,
}

impl DayBinds<'_> {
    async fn run(&self, tx: &mut crate::db::Tx, sql: &str) -> Result<()> {
        sqlx::query(sql)
            .bind(self.now)
            .bind(self.run)
            .bind(self.tenant)
            .bind(self.calendar)
            .bind(self.from)
            .bind(self.to)
            .bind(self.rule)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// The instants a local day spans in a zone (23 or 25 hours across a change).
fn day_range(day: Date, tz: &jiff::tz::TimeZone) -> Result<(i64, i64)> {
    let start = day
        .to_zoned(tz.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let next = day
        .tomorrow()
        .and_then(|d| d.to_zoned(tz.clone()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((start.timestamp().as_second(), next.timestamp().as_second()))
}

pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<Run> {
    let row = sqlx::query(
        "SELECT id, rule_id, day, created_at FROM notification_runs WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(|| Error::not_found("notification run"))?;
    Ok(from_row(&row))
}

pub async fn for_rule(db: &Db, tenant: &TenantId, rule: &str) -> Result<Vec<Run>> {
    let rows = sqlx::query(
        "SELECT id, rule_id, day, created_at FROM notification_runs WHERE tenant_id = $1 \
         AND rule_id = $2 ORDER BY created_at DESC, id DESC LIMIT 100",
    )
    .bind(tenant.as_str())
    .bind(rule)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

fn from_row(r: &sqlx::any::AnyRow) -> Run {
    Run {
        id: r.get(0),
        rule_id: r.get(1),
        day: r.get(2),
        created_at: r.get(3),
    }
}
