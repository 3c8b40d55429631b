//! A tenant's notification rules: when a booking gets a message, through which channels, in
//! which words. Saving a rule plans its messages for the bookings already in the agenda, in the
//! same transaction; changing it plans them again; deleting it drops what it had not sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use turnero_core::ids::{next_ulid, TenantId};

use crate::agenda::plans::plan_sql;
use crate::db::{Db, Tx};
use crate::error::{Error, Result};

/// When a rule's message is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// This long before the start (the duration as written, and in seconds).
    BeforeStart { text: String, secs: i64 },
    /// This long after the end (a follow-up).
    AfterEnd { text: String, secs: i64 },
    /// At once when the booking is created, rescheduled or canceled.
    On(String),
}

/// The events a rule may be `on`.
pub const ON_EVENTS: &[&str] = &["booking.created", "booking.rescheduled", "booking.canceled"];

/// An approved WhatsApp template and how its body's `{{1}}`, `{{2}}`… are filled (each a
/// message template over the booking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppTemplate {
    pub name: String,
    pub language: String,
    pub parameters: Vec<String>,
    /// The template's quick-reply buttons in its order: `confirm`, `cancel`, `person`.
    #[serde(default)]
    pub buttons: Vec<String>,
}

/// What the clinic sets (checked by the API).
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub name: String,
    pub when: When,
    /// In order of preference: `whatsapp`, `email`.
    pub channels: Vec<String>,
    pub ask_confirmation: bool,
    pub whatsapp_template: Option<WhatsAppTemplate>,
    /// Message templates by language (`es`, `pt`, `en`); the built-in words where absent.
    pub messages: BTreeMap<String, String>,
    pub calendar_ids: Vec<String>,
    pub service_ids: Vec<String>,
    /// How late a message may still go; older ones are recorded as `missed`.
    pub grace_secs: i64,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub tenant: TenantId,
    pub def: RuleDef,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, name, anchor, offset_secs, on_event, offset_text, channels, \
    ask_confirmation, whatsapp_template, messages, grace_secs, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow, scopes: Vec<(String, String)>) -> Result<Rule> {
    let anchor: String = r.get(3);
    let secs: i64 = r.get(4);
    let text: Option<String> = r.get(6);
    let when = match anchor.as_str() {
        "before_start" => When::BeforeStart {
            text: text.unwrap_or_default(),
            secs,
        },
        "after_end" => When::AfterEnd {
            text: text.unwrap_or_default(),
            secs,
        },
        _ => When::On(r.get::<Option<String>, _>(5).unwrap_or_default()),
    };
    let template: Option<String> = r.get(9);
    let pick = |kind: &str| {
        scopes
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id.clone())
            .collect()
    };
    Ok(Rule {
        id: r.get(0),
        tenant: TenantId::from_trusted(r.get::<String, _>(1)),
        def: RuleDef {
            name: r.get(2),
            when,
            channels: serde_json::from_str(&r.get::<String, _>(7))?,
            ask_confirmation: r.get::<i64, _>(8) != 0,
            whatsapp_template: template.map(|t| serde_json::from_str(&t)).transpose()?,
            messages: serde_json::from_str(&r.get::<String, _>(10))?,
            calendar_ids: pick("calendar"),
            service_ids: pick("service"),
            grace_secs: r.get(11),
        },
        created_at: r.get(12),
        updated_at: r.get(13),
    })
}

fn anchor_of(when: &When) -> (&'static str, i64, Option<String>, Option<String>) {
    match when {
        When::BeforeStart { text, secs } => ("before_start", *secs, None, Some(text.clone())),
        When::AfterEnd { text, secs } => ("after_end", *secs, None, Some(text.clone())),
        When::On(event) => ("on", 0, Some(event.clone()), None),
    }
}

/// Saves a new rule and plans its messages for the bookings already in the agenda.
pub async fn create(db: &Db, tenant: &TenantId, def: RuleDef, now: i64) -> Result<Rule> {
    let id = format!("nrl_{}", next_ulid());
    let mut tx = db.begin().await?;
    let (anchor, secs, on, text) = anchor_of(&def.when);
    sqlx::query(
        "INSERT INTO notification_rules (id, tenant_id, name, anchor, offset_secs, on_event, \
         offset_text, channels, ask_confirmation, whatsapp_template, messages, grace_secs, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(&def.name)
    .bind(anchor)
    .bind(secs)
    .bind(on)
    .bind(text)
    .bind(serde_json::to_string(&def.channels)?)
    .bind(i64::from(def.ask_confirmation))
    .bind(def.whatsapp_template.as_ref().map(serde_json::to_string).transpose()?)
    .bind(serde_json::to_string(&def.messages)?)
    .bind(def.grace_secs)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    write_scopes(&mut tx, &id, &def).await?;
    plan_existing(&mut tx, tenant, &id, now).await?;
    tx.commit().await?;
    get(db, tenant, &id).await
}

async fn write_scopes(tx: &mut Tx, id: &str, def: &RuleDef) -> Result<()> {
    sqlx::query("DELETE FROM notification_rule_scopes WHERE rule_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let scopes = def
        .calendar_ids
        .iter()
        .map(|c| ("calendar", c))
        .chain(def.service_ids.iter().map(|s| ("service", s)));
    for (kind, target) in scopes {
        sqlx::query(
            "INSERT INTO notification_rule_scopes (rule_id, kind, target_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(kind)
        .bind(target)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One statement over every live booking of the tenant still ahead: the plan for 10,000
/// bookings is written in one go.
async fn plan_existing(tx: &mut Tx, tenant: &TenantId, rule: &str, now: i64) -> Result<()> {
    sqlx::query(&plan_sql(
        "r.id = $2 AND b.tenant_id = $3 AND b.start_at >= $1",
    ))
    .bind(now)
    .bind(rule)
    .bind(tenant.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<Rule> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_rules WHERE tenant_id = $1 AND id = $2 \
         AND deleted_at IS NULL"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(|| Error::not_found("notification rule"))?;
    let scopes = scopes_of(db, id).await?;
    from_row(&row, scopes)
}

async fn scopes_of(db: &Db, id: &str) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT kind, target_id FROM notification_rule_scopes WHERE rule_id = $1 ORDER BY target_id",
    )
    .bind(id)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<Rule>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_rules WHERE tenant_id = $1 AND deleted_at IS NULL \
         ORDER BY created_at, id"
    ))
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let scopes = scopes_of(db, &r.get::<String, _>(0)).await?;
        out.push(from_row(r, scopes)?);
    }
    Ok(out)
}

/// Replaces a rule's settings; what it had planned and not yet sent is planned again.
pub async fn update(db: &Db, tenant: &TenantId, id: &str, def: RuleDef, now: i64) -> Result<Rule> {
    let mut tx = db.begin().await?;
    let (anchor, secs, on, text) = anchor_of(&def.when);
    let changed = sqlx::query(
        "UPDATE notification_rules SET name = $1, anchor = $2, offset_secs = $3, on_event = $4, \
         offset_text = $5, channels = $6, ask_confirmation = $7, whatsapp_template = $8, \
         messages = $9, grace_secs = $10, updated_at = $11 \
         WHERE tenant_id = $12 AND id = $13 AND deleted_at IS NULL",
    )
    .bind(&def.name)
    .bind(anchor)
    .bind(secs)
    .bind(on)
    .bind(text)
    .bind(serde_json::to_string(&def.channels)?)
    .bind(i64::from(def.ask_confirmation))
    .bind(
        def.whatsapp_template
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
    )
    .bind(serde_json::to_string(&def.messages)?)
    .bind(def.grace_secs)
    .bind(now)
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::not_found("notification rule"));
    }
    write_scopes(&mut tx, id, &def).await?;
    drop_planned(&mut tx, tenant, id).await?;
    plan_existing(&mut tx, tenant, id, now).await?;
    tx.commit().await?;
    get(db, tenant, id).await
}

async fn drop_planned(tx: &mut Tx, tenant: &TenantId, id: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM notification_plans WHERE tenant_id = $1 AND rule_id = $2 AND state = 'planned' \
         AND run_id IS NULL",
    )
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes a rule: nothing more is planned or sent for it; what it sent stays in the reports.
pub async fn delete(db: &Db, tenant: &TenantId, id: &str, now: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE notification_rules SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 \
         AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::not_found("notification rule"));
    }
    sqlx::query(
        "DELETE FROM notification_plans WHERE tenant_id = $1 AND rule_id = $2 AND state = 'planned'",
    )
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
