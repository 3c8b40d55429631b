//! Copies the tenant's customers into Chatwoot's contacts, as a run with progress and a
//! report: each customer with a phone is found among the contacts by exact phone (created in
//! the account's inbox when missing), linked, and given its attributes. Idempotent (a second
//! run finds every contact as it should be and changes nothing) and resumable: the run keeps
//! its cursor (the last customer done) and counts in the database, one statement per
//! customer, under a lease; a process that dies leaves it to the next one's round. A contact
//! is looked up before it is created, so a customer done twice (killed between Chatwoot's
//! answer and the cursor) is found, not created again.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Row;
use turnero_core::ids::{next_ulid, TenantId};

use super::{client, contacts, store};
use crate::channels::vendor::Failure;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::outbound::Outbound;

/// How long a process owns a run without renewing (it renews with every customer, whose
/// two or three calls to Chatwoot take well under this); after that another takes it up.
pub const LEASE_SECS: i64 = 10;

/// Customers read at a time.
const BATCH: i64 = 16;

/// Customers being looked up in Chatwoot at once.
const IN_FLIGHT: usize = 4;

/// A run, as stored; the API shows it (`api/chatwoot.rs`).
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    /// `running` or `done`.
    pub status: String,
    /// Customers when the run started.
    pub total: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Customers that cannot be a contact (`no_phone`, `no_inbox`).
    pub skipped: i64,
    /// Customers Chatwoot refused, by reason in `reasons`.
    pub failed: i64,
    pub reasons: BTreeMap<String, i64>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

impl Run {
    /// Customers looked at so far.
    pub fn done(&self) -> i64 {
        self.created + self.updated + self.unchanged + self.skipped + self.failed
    }
}

const COLUMNS: &str = "id, status, total, created, updated, unchanged, skipped, failed, \
    reasons, started_at, finished_at";

fn from_row(r: &sqlx::any::AnyRow) -> Run {
    Run {
        id: r.get(0),
        status: r.get(1),
        total: r.get(2),
        created: r.get(3),
        updated: r.get(4),
        unchanged: r.get(5),
        skipped: r.get(6),
        failed: r.get(7),
        reasons: serde_json::from_str(&r.get::<String, _>(8)).unwrap_or_default(),
        started_at: r.get(9),
        finished_at: r.get(10),
    }
}

/// Starts a run; one at a time per tenant.
pub async fn start(db: &Db, tenant: &TenantId, now: i64) -> Result<Run> {
    let id = format!("cws_{}", next_ulid());
    let row = sqlx::query(&format!(
        "INSERT INTO chatwoot_sync_runs (id, tenant_id, status, total, started_at) \
         SELECT $1, $2, 'running', (SELECT COUNT(*) FROM customers WHERE tenant_id = $2), $3 \
         WHERE NOT EXISTS (SELECT 1 FROM chatwoot_sync_runs WHERE tenant_id = $2 \
         AND status = 'running') RETURNING {COLUMNS}"
    ))
    .bind(&id)
    .bind(tenant.as_str())
    .bind(now)
    .fetch_optional(&db.write)
    .await;
    // Two starts at once: the partial unique index lets one run be `running` per tenant.
    let row = match row {
        Err(e) if crate::db::is_unique_violation(&e) => None,
        other => other?,
    };
    row.as_ref().map(from_row).ok_or_else(|| {
        Error::conflict(
            "sync_running",
            "a sync is already running; follow it at GET /channels/chatwoot/syncs/{id}",
        )
    })
}

pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<Run> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM chatwoot_sync_runs WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    row.as_ref()
        .map(from_row)
        .ok_or_else(|| Error::not_found("sync"))
}

/// Runs nobody is running (just started, or left by a process that died).
pub async fn unowned(db: &Db, now: i64) -> Result<Vec<(TenantId, String)>> {
    let rows = sqlx::query(
        "SELECT tenant_id, id FROM chatwoot_sync_runs WHERE status = 'running' \
         AND (lease_until IS NULL OR lease_until < $1)",
    )
    .bind(now)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (TenantId::from_trusted(r.get::<String, _>(0)), r.get(1)))
        .collect())
}

/// What happened to one customer.
enum Outcome {
    Created,
    Updated,
    Unchanged,
    Skipped(&'static str),
    Failed(String),
}

/// Runs the run to its end while this process holds it; stops (leaving it to a later
/// round) when Chatwoot cannot be reached.
pub async fn run(
    db: &Db,
    outbound: &Outbound,
    clock: &crate::clock::Clock,
    tenant: &TenantId,
    id: &str,
    owner: &str,
) -> Result<()> {
    let Some(ch) = store::get(db, tenant).await? else {
        return finish(db, id, clock.now_secs()).await;
    };
    loop {
        let now = clock.now_secs();
        let claimed = sqlx::query(
            "UPDATE chatwoot_sync_runs SET owner = $1, lease_until = $2 WHERE id = $3 \
             AND status = 'running' AND (lease_until IS NULL OR lease_until < $4 OR owner = $1) \
             RETURNING cursor",
        )
        .bind(owner)
        .bind(now + LEASE_SECS)
        .bind(id)
        .bind(now)
        .fetch_optional(&db.write)
        .await?;
        let Some(cursor) = claimed.map(|r| r.get::<String, _>(0)) else {
            return Ok(()); // another process has it
        };
        let batch = sqlx::query(
            "SELECT id, name, phone, external_ids FROM customers WHERE tenant_id = $1 \
             AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(&cursor)
        .bind(BATCH)
        .fetch_all(&db.read)
        .await?;
        if batch.is_empty() {
            return finish(db, id, now).await;
        }
        // A few customers at a time (Chatwoot's answers overlap), recorded in order.
        let rows: Vec<(String, String, Option<String>, String)> = batch
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        // All of the batch first, then recorded: a lookup waiting on the database must not
        // sit unpolled while a record waits for the same (SQLite: only) writer.
        let outcomes: Vec<_> = futures_util::stream::iter(rows.into_iter().map(
            |(customer, name, phone, external)| {
                let ch = &ch;
                async move {
                    let done = one(
                        db,
                        outbound,
                        ch,
                        &customer,
                        &name,
                        phone.as_deref(),
                        &external,
                        now,
                    )
                    .await;
                    (customer, done)
                }
            },
        ))
        .buffered(IN_FLIGHT)
        .collect()
        .await;
        for (customer, done) in outcomes {
            let outcome = match done? {
                Ok(o) => o,
                Err(f) if f.is_temporary() => {
                    tracing::warn!(error = f.describe(), "Chatwoot sync paused");
                    return Ok(()); // this customer again once the lease runs out
                }
                Err(Failure::Refused {
                    code, description, ..
                }) => Outcome::Failed(format!("chatwoot_{code}: {description}")),
                Err(other) => Outcome::Failed(other.describe()),
            };
            let now = clock.now_secs();
            if !record(db, id, owner, &customer, outcome, now + LEASE_SECS).await? {
                return Ok(()); // the lease was lost to another process
            }
        }
    }
}

/// Finds or creates one customer's contact, links it and writes its attributes.
#[allow(clippy::too_many_arguments)]
async fn one(
    db: &Db,
    outbound: &Outbound,
    ch: &store::Channel,
    customer: &str,
    name: &str,
    phone: Option<&str>,
    external: &str,
    now: i64,
) -> Result<std::result::Result<Outcome, Failure>> {
    let Some(phone) = phone else {
        return Ok(Ok(Outcome::Skipped("no_phone")));
    };
    let attrs = contacts::attributes(db, &ch.tenant, customer, now).await?;
    let token = &ch.api_access_token;
    let found = match contacts::find_by_phone(outbound, ch, phone).await {
        Ok(found) => found,
        Err(f) => return Ok(Err(f)),
    };
    let external: serde_json::Map<String, Value> =
        serde_json::from_str(external).unwrap_or_default();
    let (contact, outcome) = match found {
        Some(c) => {
            let Some(contact) = c["id"].as_i64() else {
                return Ok(Err(unusable("a contact without an id")));
            };
            let current = &c["custom_attributes"];
            let same = attrs
                .as_object()
                .is_some_and(|a| a.iter().all(|(k, v)| &current[k] == v));
            if same && contacts::linked(&external, ch) == Some(contact) {
                return Ok(Ok(Outcome::Unchanged));
            }
            if !same {
                if let Err(f) = contacts::push(outbound, ch, contact, &attrs).await {
                    return Ok(Err(f));
                }
            }
            (contact, Outcome::Updated)
        }
        None => {
            let Some(inbox) = ch.inbox_id else {
                return Ok(Ok(Outcome::Skipped("no_inbox")));
            };
            let body = json!({"inbox_id": inbox, "name": name, "phone_number": phone,
                "custom_attributes": attrs});
            match client::call(outbound, ch, token, Method::POST, "/contacts", &body).await {
                Ok(v) => match v["payload"]["contact"]["id"].as_i64() {
                    Some(id) => (id, Outcome::Created),
                    None => return Ok(Err(unusable("a created contact without an id"))),
                },
                Err(f) => return Ok(Err(f)),
            }
        }
    };
    contacts::link(db, ch, customer, contact, false, now).await?;
    contacts::synced(db, &ch.tenant, customer, contact, &attrs, "sync", now).await?;
    Ok(Ok(outcome))
}

/// An answer turnero cannot use: failed for this customer, not retried for ever.
fn unusable(why: &str) -> Failure {
    Failure::Refused {
        code: 0,
        description: why.into(),
        retry_after: None,
    }
}

/// Counts one customer and moves the cursor past it, while `owner` holds the run.
async fn record(
    db: &Db,
    id: &str,
    owner: &str,
    customer: &str,
    outcome: Outcome,
    lease_until: i64,
) -> Result<bool> {
    let (column, reason) = match outcome {
        Outcome::Created => ("created", None),
        Outcome::Updated => ("updated", None),
        Outcome::Unchanged => ("unchanged", None),
        Outcome::Skipped(why) => ("skipped", Some(why.to_string())),
        Outcome::Failed(why) => ("failed", Some(why)),
    };
    let reasons = match reason {
        Some(why) => {
            let run = sqlx::query("SELECT reasons FROM chatwoot_sync_runs WHERE id = $1")
                .bind(id)
                .fetch_one(&db.write)
                .await?;
            let mut map: BTreeMap<String, i64> =
                serde_json::from_str(&run.get::<String, _>(0)).unwrap_or_default();
            *map.entry(why).or_default() += 1;
            Some(serde_json::to_string(&map)?)
        }
        None => None,
    };
    let done = sqlx::query(&format!(
        "UPDATE chatwoot_sync_runs SET cursor = $1, {column} = {column} + 1, \
         reasons = COALESCE($2, reasons), lease_until = $5 WHERE id = $3 AND owner = $4"
    ))
    .bind(customer)
    .bind(reasons)
    .bind(id)
    .bind(owner)
    .bind(lease_until)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn finish(db: &Db, id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE chatwoot_sync_runs SET status = 'done', finished_at = $1, lease_until = NULL \
         WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(())
}
