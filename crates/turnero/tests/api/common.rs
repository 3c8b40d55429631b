//! The test harness: a real server on 127.0.0.1:0 over a real database (a fresh SQLite file,
//! or a fresh PostgreSQL schema), a fixed clock, and a tenant with an API key.
//!
//! PostgreSQL is required: a test that cannot reach it fails, it never skips. Point
//! `TURNERO_TEST_POSTGRES_URL` elsewhere than `postgres://postgres@127.0.0.1:5432/test` if needed.

use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Row;
use turnero::agenda::tenants::{self, NewTenant};
use turnero::app::{self, Running};
use turnero::clock::Clock;
use turnero::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Tests start at this instant: a Monday, 09:00 in Buenos Aires.
pub const NOW: &str = "2030-01-07T12:00:00Z";

pub struct TestApp {
    pub server: Running,
    pub key: String,
    pub client: reqwest::Client,
    pub database_url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub fn postgres_base_url() -> String {
    std::env::var("TURNERO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database of the given backend: its URL, and what to clean up.
pub async fn fresh_database(
    backend: Backend,
) -> (String, Option<String>, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("turnero.db").display());
            (url, None, Some(dir))
        }
        Backend::Postgres => {
            let base = postgres_base_url();
            let schema = format!("t_{}", ulid::Ulid::new().to_string().to_lowercase());
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests ({base}): {e}"));
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .expect("create schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                Some(schema),
                None,
            )
        }
    }
}

fn test_config(database_url: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.to_string(),
        hold_sweep_seconds: 3600,
        db_pool_size: 8,
        outbound_allow: "127.0.0.0/8".into(),
        webhook_poll_ms: 50,
        webhook_timeout_ms: 3_000,
        ..Config::default()
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts with test settings changed by `adjust` (retry schedule, breaker…). Webhooks
    /// may reach 127.0.0.1, where the tests' receivers listen.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let (database_url, schema, dir) = fresh_database(backend).await;
        let mut config = test_config(&database_url);
        adjust(&mut config);
        let clock = Clock::fixed(NOW.parse().unwrap());
        let server = app::start(&config, clock).await.expect("server starts");
        let key = Self::new_tenant_on(&server, "Clínica Test").await;
        TestApp {
            server,
            key,
            client: reqwest::Client::new(),
            database_url,
            schema,
            _dir: dir,
        }
    }

    /// Another server on the same database and clock, as a second process behind a load
    /// balancer would be.
    pub async fn second_process(&self) -> Running {
        app::start(&test_config(&self.database_url), self.server.clock.clone())
            .await
            .expect("second server starts")
    }

    /// Creates another tenant on the same server and returns its API key.
    pub async fn new_tenant(&self, name: &str) -> String {
        Self::new_tenant_on(&self.server, name).await
    }

    async fn new_tenant_on(server: &Running, name: &str) -> String {
        let (_, key) = tenants::create(
            &server.db,
            NewTenant {
                name: name.into(),
                timezone: "America/Argentina/Buenos_Aires".into(),
                phone_region: "AR".into(),
                locale: "es".into(),
            },
            server.clock.now_secs(),
        )
        .await
        .expect("tenant");
        key
    }

    pub fn clock(&self) -> &Clock {
        &self.server.clock
    }

    pub fn advance_to(&self, at: &str) {
        self.clock().set(at.parse::<Timestamp>().unwrap());
    }

    /// Sends a request with this app's API key; answers status and JSON body (Null if none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(&self.key, method, path, body).await
    }

    pub async fn call_as(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.server.url()))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A number from the database, to check stored state beside the response.
    pub async fn count(&self, sql: &str) -> i64 {
        let row = sqlx::query(sql)
            .fetch_one(&self.server.db.read)
            .await
            .expect(sql);
        row.get::<i64, _>(0)
    }

    /// A calendar open Monday to Friday 09:00–13:00 in Buenos Aires and a 30-minute service.
    pub async fn clinic(&self) -> (String, String) {
        self.clinic_with(serde_json::json!({})).await
    }

    /// Like [`TestApp::clinic`], with extra calendar fields (capacity, policy…).
    pub async fn clinic_with(&self, extra: Value) -> (String, String) {
        let week: Vec<Value> = ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| serde_json::json!({"weekday": d, "start": "09:00", "end": "13:00"}))
            .collect();
        let mut body = serde_json::json!({
            "name": "Dra. Ana Pérez",
            "timezone": "America/Argentina/Buenos_Aires",
            "weekly_hours": week,
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, cal) = self.post("/api/v1/calendars", body).await;
        assert_eq!(status, StatusCode::CREATED, "{cal}");
        let cal_id = cal["id"].as_str().unwrap().to_string();
        let (status, svc) = self
            .post(
                "/api/v1/services",
                serde_json::json!({
                    "name": "Consulta", "duration_minutes": 30, "calendar_ids": [cal_id]
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{svc}");
        (cal_id, svc["id"].as_str().unwrap().to_string())
    }

    /// Books `start` for a customer with `phone`; answers status and body.
    pub async fn book(
        &self,
        cal: &str,
        svc: &str,
        start: &str,
        phone: &str,
    ) -> (StatusCode, Value) {
        self.post(
            "/api/v1/bookings",
            serde_json::json!({
                "calendar_id": cal, "service_id": svc, "start": start,
                "customer": {"name": "Paciente", "phone": phone}
            }),
        )
        .await
    }

    pub async fn finish(self) {
        self.server.stop().await;
        drop_schema(self.schema).await;
    }
}

/// Removes a PostgreSQL schema made by `fresh_database`.
pub async fn drop_schema(schema: Option<String>) {
    let Some(schema) = schema else { return };
    if let Ok(mut conn) =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&postgres_base_url()).await
    {
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut conn)
            .await;
    }
}

/// The `start_local` of every slot in a slots answer, in order.
pub fn local_starts(page: &Value) -> Vec<&str> {
    page["slots"]
        .as_array()
        .expect("a slots answer")
        .iter()
        .map(|s| s["start_local"].as_str().expect("start_local"))
        .collect()
}

/// Runs each listed `async fn(&TestApp)` once on SQLite and once on PostgreSQL, as
/// `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Postgres).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
}

/// Runs each listed `async fn(Backend)` (a test that starts its own apps) on SQLite and on
/// PostgreSQL, as `special::<name>::sqlite` and `special::<name>::postgres`.
#[macro_export]
macro_rules! with_each_backend {
    ($($name:ident),* $(,)?) => {
        mod special {
            $(
                mod $name {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn sqlite() {
                        super::super::$name($crate::common::Backend::Sqlite).await;
                    }
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn postgres() {
                        super::super::$name($crate::common::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}
