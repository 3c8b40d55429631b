//! `turnero backup FILE`: a consistent copy of a SQLite database taken while a server is
//! writing to it, readable on its own; an existing file is never overwritten.

use std::process::Command;

use sqlx::Row;

use crate::common::{fresh_database, Backend};
use crate::processes::{serve_with, tenant_create};

const BIN: &str = env!("CARGO_BIN_EXE_turnero");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_live_sqlite_database_is_a_whole_database_and_never_overwrites() {
    let (url, _schema, dir) = fresh_database(Backend::Sqlite).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let server = serve_with(&url, &[]);
    // Writes go on while the copy is taken.
    let client = reqwest::Client::new();
    let writes = (0..40).map(|i| {
        client
            .post(format!("{}/api/v1/customers", server.1))
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": format!("Paciente {i}"), "phone": format!("+54911{:08}", 70_000_000 + i)}))
            .send()
    });
    let copy = dir.as_ref().unwrap().path().join("copy.db");
    let args: Vec<String> = [
        "backup",
        copy.to_str().unwrap(),
        "--database-url",
        url.as_str(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    // The copy runs as its own process (blocking), beside the writes.
    let backup =
        tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().unwrap());
    let (results, out) = tokio::join!(futures::future::join_all(writes), backup);
    let out = out.unwrap();
    assert!(results
        .iter()
        .all(|r| r.as_ref().is_ok_and(|r| r.status().is_success())));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("written to"));

    sqlx::any::install_default_drivers();
    let copied = sqlx::AnyPool::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&copied)
        .await
        .unwrap()
        .get(0);
    assert_eq!(check, "ok");
    let tenants: i64 = sqlx::query("SELECT COUNT(*) FROM tenants")
        .fetch_one(&copied)
        .await
        .unwrap()
        .get(0);
    assert_eq!(tenants, 1);
    let customers: i64 = sqlx::query("SELECT COUNT(*) FROM customers")
        .fetch_one(&copied)
        .await
        .unwrap()
        .get(0);
    assert!((0..=40).contains(&customers), "a snapshot: {customers}");

    let again = Command::new(BIN)
        .args(["backup", copy.to_str().unwrap(), "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    drop(server);
}
