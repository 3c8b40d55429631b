//! A webhook receiver on 127.0.0.1 that records every request and answers what the test
//! tells it to (a status code, a delay, a body built from the request), standing in for an
//! integrator's server or another system's agenda.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Builds the answer's body from the request's.
pub type Responder = Arc<dyn Fn(&Bytes) -> String + Send + Sync>;

#[derive(Default)]
pub struct Inner {
    pub received: Mutex<Vec<Received>>,
    pub status: AtomicU16,
    pub delay_ms: AtomicU64,
    pub responder: Mutex<Option<Responder>>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub inner: Arc<Inner>,
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = inner.status.load(Ordering::SeqCst);
    let responder = inner.responder.lock().unwrap().clone();
    let answer = responder.map(|r| r(&body)).unwrap_or_default();
    inner
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        answer,
    )
}

impl Receiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            status: AtomicU16::new(200),
            ..Inner::default()
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, inner }
    }

    pub fn answer(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// Answers every request with what `f` makes of its body.
    pub fn respond(&self, f: impl Fn(&Bytes) -> String + Send + Sync + 'static) {
        *self.inner.responder.lock().unwrap() = Some(Arc::new(f));
    }

    pub fn delay(&self, ms: u64) {
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (or panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} webhook requests within {secs} s, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
