//! One HTTP attempt: sign, POST, time it, keep the first 4 KB of the answer, classify.

use std::time::Instant;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};

use super::retry::parse_retry_after;
use super::signing::signature_header;
use super::store::{Endpoint, Format};
use crate::outbound::{is_refused, Outbound};

/// How much of a response is kept for the error log.
pub const KEPT_RESPONSE_BYTES: usize = 4096;

/// What happened to one attempt.
#[derive(Debug, Clone)]
pub struct Sent {
    pub status: Option<u16>,
    pub duration_ms: i64,
    /// `timeout`, `connect`, `refused_target` (guarded address), `redirect`, `http_status`,
    /// `invalid_url`, `request`; `None` on success.
    pub error_kind: Option<&'static str>,
    pub response: Option<String>,
    /// Seconds the receiver asked us to wait.
    pub retry_after: Option<u64>,
}

impl Sent {
    pub fn succeeded(&self) -> bool {
        self.error_kind.is_none()
    }

    /// 410 Gone: the receiver says this endpoint no longer exists.
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }

    fn failed(kind: &'static str, started: Instant, detail: String) -> Self {
        Sent {
            status: None,
            duration_ms: started.elapsed().as_millis() as i64,
            error_kind: Some(kind),
            response: Some(truncate(detail)),
            retry_after: None,
        }
    }
}

/// The first 4 KB, without NUL characters (PostgreSQL refuses them in text, and a receiver
/// may answer anything).
fn truncate(s: String) -> String {
    let mut s = if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s
    };
    if s.len() > KEPT_RESPONSE_BYTES {
        let mut cut = KEPT_RESPONSE_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Sends `body` to the endpoint as message `msg_id`, signed with every valid key.
pub async fn attempt(out: &Outbound, ep: &Endpoint, msg_id: &str, body: Vec<u8>) -> Sent {
    let started = Instant::now();
    let url = match out.check_url(&ep.url) {
        Ok(u) => u,
        Err(e) => return Sent::failed("refused_target", started, e.to_string()),
    };
    // The attempt's own time (not the event's), as Standard Webhooks asks: receivers check
    // it against their clock to refuse replays.
    let timestamp = jiff::Timestamp::now().as_second();
    let mut headers = HeaderMap::new();
    for (name, value) in &ep.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if ep.format == Format::Asisteclick {
        if let Some(v) = ep
            .access_token
            .as_deref()
            .and_then(|t| HeaderValue::from_str(t).ok())
        {
            headers.insert("asisteclick-access-token", v);
        }
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let signature = signature_header(&ep.keys, msg_id, timestamp, &body);
    for (name, value) in [
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    let sent = out
        .client
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => {
            let kind = if is_refused(&e) {
                "refused_target"
            } else if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connect"
            } else {
                "request"
            };
            return Sent::failed(kind, started, error_chain(&e));
        }
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, timestamp));
    let mut kept = Vec::new();
    let mut timed_out = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = KEPT_RESPONSE_BYTES.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if kept.len() >= KEPT_RESPONSE_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                timed_out = e.is_timeout();
                break;
            }
        }
    }
    let error_kind = if timed_out {
        Some("timeout")
    } else if status.is_success() {
        None
    } else if status.is_redirection() {
        Some("redirect")
    } else {
        Some("http_status")
    };
    Sent {
        status: Some(status.as_u16()),
        duration_ms: started.elapsed().as_millis() as i64,
        error_kind,
        response: Some(truncate(String::from_utf8_lossy(&kept).into_owned())),
        retry_after,
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
