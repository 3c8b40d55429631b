//! The real binary: `turnero tenant create --json`, and several `turnero serve` processes
//! sharing one PostgreSQL database without ever double-booking.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{fresh_database, Backend};

const BIN: &str = env!("CARGO_BIN_EXE_turnero");

pub struct Server(pub Child, pub String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(database_url: &str) -> Server {
    serve_with(database_url, &[])
}

/// `turnero serve` with extra environment; webhooks may reach 127.0.0.1 (the test receivers).
pub fn serve_with(database_url: &str, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .env("TURNERO_DB_POOL_SIZE", "6")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env("TURNERO_LOG", "turnero=debug")
        .env("TURNERO_OUTBOUND_ALLOW", "127.0.0.0/8")
        .env("TURNERO_WEBHOOK_POLL_MS", "100")
        .envs(env.iter().copied())
        .spawn()
        .expect("turnero serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("turnero listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_string();
    Server(child, url)
}

pub fn tenant_create(database_url: &str) -> Value {
    let out = Command::new(BIN)
        .args([
            "tenant",
            "create",
            "--name",
            "Clínica Norte",
            "--json",
            "--database-url",
            database_url,
        ])
        .output()
        .expect("turnero tenant create runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tenant_create_prints_an_id_and_a_key_that_the_api_accepts() {
    let (url, _, _dir) = fresh_database(Backend::Sqlite).await;
    let created = tenant_create(&url);
    assert!(created["tenant_id"].as_str().unwrap().starts_with("ten_"));
    assert_eq!(
        created["database"], url,
        "it says which database the key is in (an absolute path)"
    );
    let key = created["api_key"].as_str().unwrap();
    let server = serve(&url);
    let client = reqwest::Client::new();
    let me: Value = client
        .get(format!("{}/api/v1/tenant", server.1))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], created["tenant_id"]);
    assert_eq!(me["name"], "Clínica Norte");
    let stored: Vec<u8> = std::fs::read(url.trim_start_matches("sqlite://")).unwrap();
    let needle = key.as_bytes();
    assert!(
        !stored.windows(needle.len()).any(|w| w == needle),
        "the API key is stored only hashed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_three_server_processes_book_one_slot_exactly_once() {
    let (url, _schema, _) = fresh_database(Backend::Postgres).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let servers: Vec<Server> = (0..3).map(|_| serve(&url)).collect();
    let client = reqwest::Client::new();
    let post = |base: &str, path: &str, body: Value| {
        client
            .post(format!("{base}/api/v1{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let cal: Value = post(&servers[0].1, "/calendars", json!({"name": "Dr. Souza", "timezone": "America/Sao_Paulo", "capacity": 2,
        "weekly_hours": [{"weekday": "mon", "start": "00:00", "end": "24:00"}, {"weekday": "tue", "start": "00:00", "end": "24:00"},
                         {"weekday": "wed", "start": "00:00", "end": "24:00"}, {"weekday": "thu", "start": "00:00", "end": "24:00"},
                         {"weekday": "fri", "start": "00:00", "end": "24:00"}, {"weekday": "sat", "start": "00:00", "end": "24:00"},
                         {"weekday": "sun", "start": "00:00", "end": "24:00"}]})).await.unwrap().json().await.unwrap();
    let svc: Value = post(
        &servers[1].1,
        "/services",
        json!({"name": "Consulta", "duration_minutes": 30, "calendar_ids": [cal["id"]]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let start = jiff::Timestamp::now().as_second() / 1800 * 1800 + 2 * 86_400;
    let start = turnero_core::time::fmt_ts(start);
    let attempts = (0..60).map(|i| {
        let base = servers[i % 3].1.clone();
        post(
            &base,
            "/bookings",
            json!({"calendar_id": cal["id"], "service_id": svc["id"], "start": start,
            "customer": {"name": "P", "phone": format!("+5511987{i:06}")}}),
        )
    });
    let mut statuses = Vec::new();
    for r in join_all(attempts).await {
        statuses.push(r.expect("server answers").status());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (2, 58), "{statuses:?}");
    let list: Value = client
        .get(format!("{}/api/v1/bookings", servers[2].1))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);

    // Server 0 caches the slot list; a cancellation made on server 2 must reach it.
    let slots_url = format!(
        "{}/api/v1/calendars/{}/slots?service_id={}&count=1&preferred={start}",
        servers[0].1,
        cal["id"].as_str().unwrap(),
        svc["id"].as_str().unwrap()
    );
    let first_slot = || async {
        let page: Value = client
            .get(&slots_url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["slots"][0]["start"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_ne!(first_slot().await, start, "the full slot is not offered");
    assert_ne!(first_slot().await, start, "not even from the cache");
    let victim = list["data"][0]["id"].as_str().unwrap();
    let canceled = post(
        &servers[2].1,
        &format!("/bookings/{victim}/cancel"),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(canceled.status(), StatusCode::OK);
    // NOTIFY arrives within milliseconds; the cache's own expiry (5 s) is past this bound.
    let mut polls = 0;
    while first_slot().await != start {
        polls += 1;
        assert!(
            polls < 100,
            "server 0 never noticed the cancellation made on server 2"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_demo_fills_a_clinic_in_two_time_zones_and_prints_a_working_key() {
    let (url, _, _dir) = fresh_database(Backend::Sqlite).await;
    let out = Command::new(BIN)
        .args(["demo", "--database-url", &url])
        .output()
        .expect("turnero demo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("api_key:"))
        .expect("prints the key")
        .trim()
        .to_string();
    let server = serve(&url);
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}/api/v1{path}", server.1))
            .bearer_auth(&key)
            .send()
    };
    let cals: Value = get("/calendars").await.unwrap().json().await.unwrap();
    let zones: std::collections::BTreeSet<&str> = cals
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["timezone"].as_str().unwrap())
        .collect();
    assert_eq!(cals.as_array().unwrap().len(), 3);
    assert_eq!(zones.len(), 2, "{zones:?}");
    let services: Value = get("/services").await.unwrap().json().await.unwrap();
    assert_eq!(services.as_array().unwrap().len(), 3);
    let bookings: Value = get("/bookings").await.unwrap().json().await.unwrap();
    assert!(
        bookings["data"].as_array().unwrap().len() >= 20,
        "{bookings}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_serve_stops_cleanly_on_sigterm() {
    let (url, _, _dir) = fresh_database(Backend::Sqlite).await;
    let mut server = serve(&url);
    let health = reqwest::get(format!("{}/healthz", server.1)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let pid = server.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let mut waited = 0;
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        waited += 1;
        assert!(
            waited < 200,
            "turnero serve did not stop within 10 s of SIGTERM"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
}

/// The multi-process benchmark (BENCHMARKS.md, issue #18) at a small size: two `serve`
/// processes, each slot asked for through both at once, a drain of queued deliveries. It
/// exits non-zero if a slot is booked twice or a delivery made twice or never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bench_processes_books_each_raced_slot_once_and_delivers_each_event_once() {
    let (url, schema, _) = fresh_database(Backend::Postgres).await;
    let out = tokio::process::Command::new(BIN)
        .args(["bench", "processes", "--processes", "2", "--bookings", "40"])
        .args([
            "--calendars",
            "4",
            "--events",
            "300",
            "--database-url",
            &url,
        ])
        .output()
        .await
        .expect("run the bench");
    crate::common::drop_schema(schema).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("(40 made, 40 refused as taken, 0 other answers"),
        "{stdout}"
    );
    assert!(stdout.contains("N=2 drain"), "{stdout}");
}
