//! What every routed request leaves behind: its id (answered in `x-request-id`), a span, and
//! Prometheus counts and latencies per route, rendered at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use (several apps in one test process
/// share it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed by an embedding program; then ours only
        // renders what it was given.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One middleware for the request's id, span and metrics (each layer of its own cost
/// `/slots` measurably; BENCHMARKS.md). The id is a ULID, or the one a proxy sent. The span
/// names the route template, never the path: paths carry per-tenant URL keys that are
/// secrets. It is a debug span: at `info` a span per request cost `/slots` an eighth of its
/// rate, so `TURNERO_LOG=turnero=debug` turns request spans on.
pub async fn track(req: Request, next: Next) -> Response {
    let _ = handle();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| v.len() <= 128)
        .cloned()
        .unwrap_or_else(new_request_id);
    let method = req.method().to_string();
    let span = tracing::debug_span!(
        "request",
        request_id = id.to_str().unwrap_or(""),
        method,
        route
    );
    let started = Instant::now();
    // A disabled span (the default level) is skipped rather than entered at every poll.
    let mut response = if span.is_disabled() {
        next.run(req).await
    } else {
        next.run(req).instrument(span).await
    };
    response.headers_mut().insert(REQUEST_ID.clone(), id);
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("turnero_http_requests_total", &labels).increment(1);
    metrics::histogram!("turnero_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A ULID from the process's monotonic generator: sortable and unique across processes.
fn new_request_id() -> HeaderValue {
    let id = turnero_core::ids::next_ulid()
        .to_string()
        .to_ascii_lowercase();
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("-"))
}
