//! On PostgreSQL the delivery queue's upkeep never waits for a row another transaction holds.
//! Renewing leases used to wait for the rows the result recorder was finishing while holding
//! others the recorder wanted next; PostgreSQL broke that deadlock after its one-second
//! `deadlock_timeout`, and a delivery's latency jumped to 1.2 s (issue #18).

use std::time::Duration;

use sqlx::Row;
use turnero::agenda::tenants::{self, NewTenant};
use turnero::db::Db;
use turnero::webhooks::queue;

use crate::common::{drop_schema, fresh_database, Backend};

/// A queue with two deliveries being sent under claim `c1`, leased until `lease_until`.
async fn two_rows_being_sent(lease_until: i64) -> (Db, Option<String>) {
    let (url, schema, _) = fresh_database(Backend::Postgres).await;
    let db = Db::connect(&url, 4).await.expect("connect");
    let new = NewTenant {
        name: "Clínica".into(),
        timezone: "America/Argentina/Buenos_Aires".into(),
        phone_region: "AR".into(),
        locale: "es".into(),
    };
    let (tenant, _) = tenants::create(&db, new, 0).await.expect("tenant");
    sqlx::query(
        "INSERT INTO webhooks (id, tenant_id, url, enabled, event_types, format, headers, \
         secret, created_at, updated_at) \
         VALUES ('wh_1', $1, 'http://127.0.0.1:9/', 1, '[\"*\"]', 'standard', '{}', 'x', 0, 0)",
    )
    .bind(&tenant.id)
    .execute(&db.write)
    .await
    .expect("webhook");
    for event in ["evt_a", "evt_b"] {
        sqlx::query(
            "INSERT INTO webhook_deliveries (event_id, webhook_id, tenant_id, event_type, state, \
             next_attempt_at, claim, lease_until, created_at) \
             VALUES ($1, 'wh_1', $2, 'booking.created', 'sending', 0, 'c1', $3, 0)",
        )
        .bind(event)
        .bind(&tenant.id)
        .bind(lease_until)
        .execute(&db.write)
        .await
        .expect("delivery");
    }
    (db, schema)
}

/// `(state, lease_until)` of a delivery.
async fn row(db: &Db, event: &str) -> (String, i64) {
    let r = sqlx::query("SELECT state, lease_until FROM webhook_deliveries WHERE event_id = $1")
        .bind(event)
        .fetch_one(&db.write)
        .await
        .expect("row");
    (r.get(0), r.get(1))
}

/// Holds `evt_a` locked, as the result recorder does while it writes that row's result.
async fn hold_evt_a(db: &Db) -> turnero::db::Tx {
    let mut tx = db.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM webhook_deliveries WHERE event_id = 'evt_a' FOR UPDATE")
        .execute(&mut *tx)
        .await
        .expect("lock");
    tx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewing_leases_skips_a_row_the_recorder_holds_instead_of_waiting_for_it() {
    let (db, schema) = two_rows_being_sent(1_000).await;
    let held = hold_evt_a(&db).await;
    let renewed = tokio::time::timeout(
        Duration::from_secs(5),
        queue::renew(&db, &["c1".to_string()], 9_000),
    )
    .await;
    held.rollback().await.expect("rollback");
    assert!(
        matches!(renewed, Ok(Ok(()))),
        "renewal waited or failed: {renewed:?}"
    );
    assert_eq!(row(&db, "evt_a").await, ("sending".into(), 1_000));
    assert_eq!(row(&db, "evt_b").await, ("sending".into(), 9_000));
    db.close().await;
    drop_schema(schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_back_lapsed_leases_leaves_a_row_its_sender_holds() {
    let (db, schema) = two_rows_being_sent(1_000).await;
    let held = hold_evt_a(&db).await;
    let taken =
        tokio::time::timeout(Duration::from_secs(5), queue::take_back_lapsed(&db, 2_000)).await;
    held.rollback().await.expect("rollback");
    assert!(
        matches!(taken, Ok(Ok(()))),
        "taking back waited or failed: {taken:?}"
    );
    assert_eq!(row(&db, "evt_a").await.0, "sending");
    assert_eq!(row(&db, "evt_b").await.0, "pending");
    // Once nobody holds it, a lapsed row does come back.
    queue::take_back_lapsed(&db, 2_000)
        .await
        .expect("take back");
    assert_eq!(row(&db, "evt_a").await.0, "pending");
    db.close().await;
    drop_schema(schema).await;
}
