//! Copying a clinic's customers into Chatwoot with real `turnero serve` processes: the one
//! running the sync is killed (SIGKILL) halfway, another process finishes it, and nobody is
//! made twice; a second run finds everything as it should be and changes nothing.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

use crate::chatwoot_api::{ChatwootApi, ACCOUNT, BOT_TOKEN, INBOX, USER_TOKEN};
use crate::common::{fresh_database, Backend};
use crate::processes::{serve_with, tenant_create};

const CUSTOMERS: usize = 1000;
const WITHOUT_PHONE: usize = 5;

async fn call(key: &str, method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status} {v}");
    v
}

/// Polls a run until `done(run)` holds; answers the run.
async fn wait_run(
    base: &str,
    key: &str,
    id: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let url = format!("{base}/api/v1/channels/chatwoot/syncs/{id}");
        let run = call(key, reqwest::Method::GET, url, None).await;
        if done(&run) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the sync did not get there: {run}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_sync_of_a_thousand_customers_survives_a_kill_and_a_second_run_changes_nothing(
    backend: Backend,
) {
    let (url, _schema, _dir) = fresh_database(backend).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let a = serve_with(&url, &[]);
    // Customers, as a clinic has them: most with a phone, a few without.
    for chunk in (0..CUSTOMERS + WITHOUT_PHONE)
        .collect::<Vec<_>>()
        .chunks(50)
    {
        join_all(chunk.iter().map(|i| {
            let mut body = json!({"name": format!("Paciente {i}")});
            if *i < CUSTOMERS {
                body["phone"] = json!(format!("+54911{:08}", 40_000_000 + i));
            }
            call(
                &key,
                reqwest::Method::POST,
                format!("{}/api/v1/customers", a.1),
                Some(body),
            )
        }))
        .await;
    }
    let chatwoot = ChatwootApi::start().await;
    chatwoot.delay(2); // a Chatwoot a little busy: the run takes a few seconds
    call(
        &key,
        reqwest::Method::PUT,
        format!("{}/api/v1/channels/chatwoot", a.1),
        Some(
            json!({"base_url": chatwoot.base, "account_id": ACCOUNT, "inbox_id": INBOX,
            "api_access_token": USER_TOKEN, "agent_bot_token": BOT_TOKEN}),
        ),
    )
    .await;
    let run = call(
        &key,
        reqwest::Method::POST,
        format!("{}/api/v1/channels/chatwoot/syncs", a.1),
        None,
    )
    .await;
    let id = run["id"].as_str().unwrap().to_string();
    assert_eq!(run["total"], (CUSTOMERS + WITHOUT_PHONE) as i64);
    wait_run(&a.1, &key, &id, 30, |r| r["done"].as_i64() >= Some(200)).await;
    drop(a); // SIGKILL, mid-run
    let b = serve_with(&url, &[]);
    let done = wait_run(&b.1, &key, &id, 60, |r| r["status"] == "done").await;
    assert_eq!(done["done"], (CUSTOMERS + WITHOUT_PHONE) as i64, "{done}");
    assert_eq!(done["failed"], 0, "{done}");
    assert_eq!(done["skipped"], WITHOUT_PHONE as i64, "{done}");
    assert_eq!(
        done["reasons"],
        json!({"no_phone": WITHOUT_PHONE}),
        "{done}"
    );
    assert_eq!(
        done["created"].as_i64().unwrap()
            + done["updated"].as_i64().unwrap()
            + done["unchanged"].as_i64().unwrap(),
        CUSTOMERS as i64,
        "{done}"
    );
    assert_eq!(chatwoot.contacts(), CUSTOMERS, "nobody made twice");
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    let linked: i64 =
        sqlx::query("SELECT COUNT(*) FROM customers WHERE external_ids LIKE '%chatwoot%'")
            .fetch_one(&db)
            .await
            .unwrap()
            .get(0);
    assert_eq!(linked, CUSTOMERS as i64);

    let again = call(
        &key,
        reqwest::Method::POST,
        format!("{}/api/v1/channels/chatwoot/syncs", b.1),
        None,
    )
    .await;
    let again_id = again["id"].as_str().unwrap().to_string();
    let second = wait_run(&b.1, &key, &again_id, 60, |r| r["status"] == "done").await;
    assert_eq!(second["unchanged"], CUSTOMERS as i64, "{second}");
    assert_eq!(second["created"], 0, "{second}");
    assert_eq!(second["updated"], 0, "{second}");
    assert_eq!(chatwoot.contacts(), CUSTOMERS);
    assert_eq!(chatwoot.problems(), Vec::<String>::new());
    let busy = reqwest::Client::new()
        .post(format!("{}/api/v1/channels/chatwoot/syncs", b.1))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        busy,
        StatusCode::ACCEPTED,
        "a new run once the last one is done"
    );
}

crate::with_each_backend!(
    a_sync_of_a_thousand_customers_survives_a_kill_and_a_second_run_changes_nothing
);
