//! API keys with names and a last-used time, revoked at once on every process; the last key
//! of a tenant is kept; the same from the CLI.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{fresh_database, Backend, TestApp};
use crate::processes::tenant_create;

const BIN: &str = env!("CARGO_BIN_EXE_turnero");

async fn status_with(base: &str, key: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/calendars"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_leaked_key_is_revoked_and_stops_working_on_every_process_at_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (status, made) = app
        .post("/api/v1/api-keys", json!({"name": "AsisteClick"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let key = made["key"].as_str().unwrap().to_string();
    let base = app.server.url();
    assert_eq!(status_with(&base, &key).await, StatusCode::OK);
    // A second process on PostgreSQL has seen (and cached) the key too.
    let second = match backend {
        Backend::Postgres => {
            let s = app.second_process().await;
            assert_eq!(status_with(&s.url(), &key).await, StatusCode::OK);
            Some(s)
        }
        Backend::Sqlite => None,
    };
    let (_, list) = app.get("/api/v1/api-keys").await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first key", "AsisteClick"]);
    assert!(list[1]["last_used_at"].is_string(), "{list}");
    assert!(
        !list.to_string().contains(&key),
        "the key is shown only once"
    );

    let id = made["id"].as_str().unwrap();
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/v1/api-keys/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(status_with(&base, &key).await, StatusCode::UNAUTHORIZED);
    if let Some(s) = &second {
        let deadline = Instant::now() + Duration::from_secs(3);
        while status_with(&s.url(), &key).await != StatusCode::UNAUTHORIZED {
            assert!(
                Instant::now() < deadline,
                "the other process still takes the revoked key"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(status_with(&base, &app.key).await, StatusCode::OK);

    // The last key stays; another tenant's key is not this tenant's to revoke.
    let (_, list) = app.get("/api/v1/api-keys").await;
    let last = list[0]["id"].as_str().unwrap();
    let (status, problem) = app
        .call(Method::DELETE, &format!("/api/v1/api-keys/{last}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "last_key");
    let other = app.new_tenant("Otra").await;
    let (status, _) = app
        .call_as(
            &other,
            Method::DELETE,
            &format!("/api/v1/api-keys/{last}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    if let Some(s) = second {
        s.stop().await;
    }
    app.finish().await;
}

fn cli(args: &[&str], url: &str) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database-url", url])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn keys_are_made_listed_and_revoked_from_the_command_line(backend: Backend) {
    let (url, _schema, _dir) = fresh_database(backend).await;
    let tenant = tenant_create(&url)["tenant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, out) = cli(
        &[
            "key",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "recepción",
            "--json",
        ],
        &url,
    );
    assert!(ok, "{out}");
    let line = out.lines().find(|l| l.starts_with('{')).unwrap();
    let made: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(made["key"].as_str().unwrap().starts_with("trn_"));
    let (ok, listed) = cli(&["key", "list", "--tenant", &tenant], &url);
    assert!(
        ok && listed.contains("recepción") && listed.contains("first key"),
        "{listed}"
    );
    let (ok, out) = cli(
        &[
            "key",
            "revoke",
            "--tenant",
            &tenant,
            "--id",
            made["id"].as_str().unwrap(),
        ],
        &url,
    );
    assert!(ok, "{out}");
    let first = listed
        .lines()
        .find(|l| l.contains("first key"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let (ok, out) = cli(
        &["key", "revoke", "--tenant", &tenant, "--id", &first],
        &url,
    );
    assert!(!ok && out.contains("last"), "the last key stays: {out}");
}

crate::with_each_backend!(
    a_leaked_key_is_revoked_and_stops_working_on_every_process_at_once,
    keys_are_made_listed_and_revoked_from_the_command_line,
);
