//! Webhook delivery across real `turnero serve` processes: a `kill -9` in the middle of a
//! burst loses nothing, and several processes on one PostgreSQL send each event once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::common::{fresh_database, Backend};
use crate::processes::{serve_with, tenant_create, Server};
use crate::receiver::Receiver;

async fn subscribe(base: &str, key: &str, url: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(key)
        .json(&json!({"url": url, "event_types": ["customer.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

/// Every `customer.created` event id in the outbox, through the API.
async fn event_ids(base: &str, key: &str) -> HashSet<String> {
    let client = reqwest::Client::new();
    let mut ids = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page: Value = client
            .get(format!(
                "{base}/api/v1/events?type=customer.created&limit=500{cursor}"
            ))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["data"].as_array().unwrap() {
            ids.insert(e["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

/// Creates `n` customers, spread over the servers, 16 at a time; failures are ignored (a
/// server may be killed meanwhile).
async fn burst(bases: Vec<String>, key: String, n: usize, offset: usize) {
    let client = reqwest::Client::new();
    stream::iter(0..n)
        .for_each_concurrent(16, |i| {
            let base = bases[i % bases.len()].clone();
            let (client, key) = (client.clone(), key.clone());
            async move {
                let _ = client
                    .post(format!("{base}/api/v1/customers"))
                    .bearer_auth(&key)
                    .json(&json!({"name": "P", "phone": format!("+5511987{:06}", i + offset)}))
                    .send()
                    .await;
            }
        })
        .await;
}

fn received_ids(rx: &Receiver) -> Vec<String> {
    rx.received()
        .iter()
        .map(|r| r.header("webhook-id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_server_killed_mid_burst_delivers_every_committed_event_after_restart() {
    let (url, _, _dir) = fresh_database(Backend::Sqlite).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    // A short timeout makes the lease short, so claims the dead process held come back soon.
    let env = [("TURNERO_WEBHOOK_TIMEOUT_MS", "1000")];
    let mut server: Server = serve_with(&url, &env);
    let rx = Receiver::start().await;
    rx.delay(20);
    subscribe(&server.1, &key, &rx.url).await;

    let burst_task = tokio::spawn(burst(vec![server.1.clone()], key.clone(), 400, 0));
    let deadline = Instant::now() + Duration::from_secs(20);
    while rx.received().len() < 30 {
        assert!(Instant::now() < deadline, "deliveries never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.0.wait().unwrap();
    burst_task.await.unwrap();
    let before_restart = rx.received().len();

    let server = serve_with(&url, &env);
    let committed = event_ids(&server.1, &key).await;
    assert!(committed.len() >= 30, "the burst committed events");
    assert!(
        before_restart < committed.len(),
        "the kill left deliveries to do"
    );
    eprintln!(
        "killed after {before_restart} deliveries; {} events committed",
        committed.len()
    );
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let got: HashSet<String> = received_ids(&rx).into_iter().collect();
        if committed.is_subset(&got) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} committed events delivered after restart",
            committed.intersection(&got).count(),
            committed.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_three_server_processes_deliver_each_event_once() {
    let (url, _, _) = fresh_database(Backend::Postgres).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let servers: Vec<Server> = (0..3).map(|_| serve_with(&url, &[])).collect();
    let rx = Receiver::start().await;
    subscribe(&servers[0].1, &key, &rx.url).await;
    let bases: Vec<String> = servers.iter().map(|s| s.1.clone()).collect();
    burst(bases, key.clone(), 150, 0).await;
    let committed = event_ids(&servers[1].1, &key).await;
    assert_eq!(committed.len(), 150);
    rx.wait_for(150, 30).await;
    // Any double send would show up by now: every process polls every 100 ms.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let ids = received_ids(&rx);
    let distinct: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(distinct, committed);
    assert_eq!(ids.len(), 150, "each event sent exactly once");
}

/// A receiver takes 1.5 s to answer; `serve` gets SIGTERM while the send is in flight.
async fn a_send_in_flight_at_sigterm_is_finished_and_recorded_before_the_process_exits(
    backend: Backend,
) {
    let (url, _, _dir) = fresh_database(backend).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let mut server = serve_with(&url, &[]);
    let rx = Receiver::start().await;
    rx.delay(1_500);
    subscribe(&server.1, &key, &rx.url).await;
    burst(vec![server.1.clone()], key.clone(), 1, 0).await;
    tokio::time::sleep(Duration::from_millis(400)).await; // sent, not yet answered
    assert!(rx.received().is_empty());
    let pid = server.0.id().to_string();
    let stopped_at = Instant::now();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(10),
            "turnero serve did not stop within its 10 s grace"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    assert_eq!(rx.received().len(), 1, "the send finished before the exit");

    // The attempt was recorded before the exit: the next process sees it delivered and
    // sends nothing again.
    let again = serve_with(&url, &[]);
    let client = reqwest::Client::new();
    let get = |path: String| {
        let (client, key, base) = (client.clone(), key.clone(), again.1.clone());
        async move {
            client
                .get(format!("{base}/api/v1{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let hooks = get("/webhooks".into()).await;
    let id = hooks[0]["id"].as_str().unwrap().to_string();
    let attempts = get(format!("/webhooks/{id}/attempts")).await;
    let outcomes: Vec<&str> = attempts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["success"], "{attempts}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.received().len(), 1, "sent once");
}

crate::with_each_backend!(
    a_send_in_flight_at_sigterm_is_finished_and_recorded_before_the_process_exits
);
