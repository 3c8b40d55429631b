//! What a rule or a run achieved, counted from the plan rows and the channel's statuses
//! (WhatsApp's `delivered` and `read` come back through its webhook): planned, sent,
//! delivered, read, failed by reason, and the patients' answers.

use std::collections::BTreeMap;

use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::Db;
use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every row, whatever became of it.
    pub total: i64,
    /// Still waiting for their time.
    pub planned: i64,
    /// Handed to a channel, not yet accepted.
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    /// By reason: `no_phone`, `no_email`, `no_template`, `meta_error` (refused after it was
    /// accepted), the channel's refusal…
    pub failed: BTreeMap<String, i64>,
    pub missed: i64,
    /// Quiet hours lasted until after the appointment.
    pub skipped: i64,
    pub confirmed: i64,
    pub canceled: i64,
    pub person: i64,
    /// Sent, asked for an answer, none yet.
    pub no_answer: i64,
}

/// Which rows to count.
pub enum Scope<'a> {
    Rule(&'a str),
    Run(&'a str),
}

impl Scope<'_> {
    fn column_and_id(&self) -> (&'static str, &str) {
        match self {
            Scope::Rule(id) => ("rule_id", id),
            Scope::Run(id) => ("run_id", id),
        }
    }
}

pub async fn report(
    db: &Db,
    tenant: &TenantId,
    scope: Scope<'_>,
    asks_for_answer: bool,
) -> Result<Report> {
    let (column, id) = scope.column_and_id();
    let rows = sqlx::query(&format!(
        "SELECT state, COALESCE(reason, ''), COALESCE(answer, ''), COUNT(*) FROM notification_plans \
         WHERE tenant_id = $1 AND {column} = $2 GROUP BY state, reason, answer"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_all(&db.read)
    .await?;
    let mut r = Report::default();
    for row in &rows {
        let (state, reason, answer, n): (String, String, String, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        r.total += n;
        match state.as_str() {
            "planned" => r.planned += n,
            "queued" => r.queued += n,
            "sent" => r.sent += n,
            "missed" => r.missed += n,
            "skipped" => r.skipped += n,
            _ => *r.failed.entry(reason).or_default() += n,
        }
        match answer.as_str() {
            "confirmed" => r.confirmed += n,
            "canceled" => r.canceled += n,
            "person" => r.person += n,
            _ if state == "sent" && asks_for_answer => r.no_answer += n,
            _ => {}
        }
    }
    // How far the sent messages got, by the channel's statuses (1 sent, 2 delivered,
    // 3 read, 4 played, 5 failed).
    let statuses = sqlx::query(&format!(
        "SELECT s.rank, COUNT(*) FROM notification_plans p \
         JOIN chat_outbox o ON o.id = p.outbox_id \
         JOIN message_statuses s ON s.tenant_id = p.tenant_id AND s.channel = o.channel \
         AND s.message_id = o.external_id \
         WHERE p.tenant_id = $1 AND p.{column} = $2 AND p.state = 'sent' GROUP BY s.rank"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_all(&db.read)
    .await?;
    for row in &statuses {
        let (rank, n): (i64, i64) = (row.get(0), row.get(1));
        match rank {
            2 => r.delivered += n,
            3 | 4 => {
                r.delivered += n;
                r.read += n;
            }
            5 => {
                r.sent -= n;
                *r.failed.entry("meta_error".into()).or_default() += n;
            }
            _ => {}
        }
    }
    Ok(r)
}
