//! Sends an operator asks for: a test event, a resend of one attempt's event, and recovery
//! of everything that failed since a time. Test and resend go out once, now, never retried
//! (like Svix's manual sends), and answer the attempt.

use serde_json::json;
use sqlx::Row;
use turnero_core::event;
use turnero_core::ids::{AttemptId, EventId, TenantId, WebhookId};

use super::attempts::{self, AttemptOut};
use super::formats::{self, EventRecord};
use super::hub::Hub;
use super::record::{insert_attempts, AttemptRow};
use super::send::{attempt, Sent};
use super::store::{self, Endpoint, Format};
use crate::db::Batch;
use crate::error::{Error, Result};

/// Sends a `webhook.test` event (or, for the vendor formats, a sample of what they carry).
pub async fn send_test(hub: &Hub, tenant: &TenantId, id: &WebhookId) -> Result<AttemptOut> {
    let now = hub.clock.now_ms();
    let ep = store::endpoint(&hub.db, tenant, id, now).await?;
    if !ep.enabled {
        return Err(Error::conflict(
            "webhook_disabled",
            "turn the webhook on before testing it",
        ));
    }
    let (kind, data) = match ep.format {
        Format::Standard => (
            event::WEBHOOK_TEST,
            json!({"webhook_id": id.as_str(), "message": "turnero test event"}),
        ),
        Format::Asisteclick => (
            event::BOOKING_CREATED,
            json!({"id": "bkg_test", "status": "confirmed", "calendar_id": null, "source": "test",
                   "start": "2030-01-15T13:00:00Z", "end": "2030-01-15T13:30:00Z",
                   "public_key": "test", "custom_fields": {},
                   "customer": {"id": null, "name": "Test", "phone": null, "email": null}}),
        ),
        Format::Botmaker => (
            event::MESSAGE_SENT,
            json!({"channel": "webchat", "contact_id": "test", "customer_id": null,
                   "message": {"id": "test", "text": "turnero test message",
                               "at": turnero_core::time::fmt_ts_ms(now), "from": "bot"}}),
        ),
    };
    let ev = EventRecord {
        id: EventId::generate().into_string(),
        kind: kind.to_string(),
        data: data.to_string(),
        created_at: now / 1000,
    };
    send_once(hub, &ep, &ev, "test", 1).await
}

/// Sends the event of an earlier attempt again, now.
pub async fn resend(
    hub: &Hub,
    tenant: &TenantId,
    id: &WebhookId,
    attempt_id: &AttemptId,
) -> Result<AttemptOut> {
    let now = hub.clock.now_ms();
    let ep = store::endpoint(&hub.db, tenant, id, now).await?;
    let row = sqlx::query(
        "SELECT e.id, e.type, e.data, e.created_at, \
         (SELECT MAX(attempt) FROM webhook_attempts m WHERE m.webhook_id = a.webhook_id AND m.event_id = a.event_id) \
         FROM webhook_attempts a JOIN events e ON e.id = a.event_id \
         WHERE a.tenant_id = $1 AND a.webhook_id = $2 AND a.id = $3",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(attempt_id.as_str())
    .fetch_optional(&hub.db.read)
    .await?
    .ok_or_else(|| Error::not_found("attempt"))?;
    let ev = EventRecord {
        id: row.get(0),
        kind: row.get(1),
        data: row.get(2),
        created_at: row.get(3),
    };
    let attempt_no = row.get::<Option<i64>, _>(4).unwrap_or(0) + 1;
    let out = send_once(hub, &ep, &ev, "manual", attempt_no).await?;
    if out.outcome == "success" {
        // A delivery that had given up (or was waiting for its next retry) is now done.
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'delivered', finished_at = $3 \
             WHERE event_id = $1 AND webhook_id = $2 AND state IN ('failed', 'pending')",
        )
        .bind(&ev.id)
        .bind(id.as_str())
        .bind(now)
        .execute(&hub.db.write)
        .await?;
    }
    Ok(out)
}

/// Puts every delivery that failed for good since `since_ms` back in the queue, with a fresh
/// retry schedule. Answers how many.
pub async fn recover(hub: &Hub, tenant: &TenantId, id: &WebhookId, since_ms: i64) -> Result<u64> {
    let now = hub.clock.now_ms();
    store::endpoint(&hub.db, tenant, id, now).await?;
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, \
         held = 0, finished_at = NULL WHERE tenant_id = $1 AND webhook_id = $2 \
         AND state = 'failed' AND created_at >= $4",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(now)
    .bind(since_ms)
    .execute(&hub.db.write)
    .await?;
    hub.db.committed.notify_one();
    Ok(done.rows_affected())
}

async fn send_once(
    hub: &Hub,
    ep: &Endpoint,
    ev: &EventRecord,
    trigger: &'static str,
    attempt_no: i64,
) -> Result<AttemptOut> {
    let ctx = formats::context_for(&hub.db, ep, ev).await;
    let body = formats::body(ep.format, ev, &ctx).ok_or_else(|| {
        Error::conflict(
            "format_has_no_shape",
            format!(
                "the {} format has no body for {}",
                ep.format.as_str(),
                ev.kind
            ),
        )
    })?;
    let sent: Sent = attempt(&hub.outbound, ep, &ev.id, body).await;
    let at = hub.clock.now_ms();
    let id = AttemptId::generate();
    let mut batch = Batch::default();
    let row = AttemptRow {
        id: id.clone(),
        tenant_id: &ep.tenant_id,
        webhook_id: &ep.id,
        event_id: &ev.id,
        event_type: &ev.kind,
        attempt: attempt_no,
        trigger,
        at_ms: at,
        sent: &sent,
    };
    insert_attempts(&mut batch, &[row])?;
    let mut conn = hub.db.write.acquire().await?;
    batch.run(&mut conn).await?;
    drop(conn);
    attempts::get(&hub.db, &ep.tenant_id, &id).await
}
