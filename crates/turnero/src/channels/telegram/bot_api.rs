//! Calling Telegram's Bot API: `POST {api_url}/bot{token}/{method}` with a JSON body, through
//! the outbound guard checked at every call. Telegram answers `{"ok": true, "result"}` or
//! `{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`.
//!
//! The token is part of the URL, so no URL ever reaches a log or an error message: reqwest's
//! errors are stripped of it.

use serde_json::Value;

pub use crate::channels::vendor::Failure;
use crate::outbound::Outbound;

/// Telegram's own Bot API server.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

/// One Bot API call; answers its `result`.
pub async fn call(
    outbound: &Outbound,
    api_url: &str,
    token: &str,
    method: &str,
    body: &Value,
) -> Result<Value, Failure> {
    let url = format!("{}/bot{token}/{method}", api_url.trim_end_matches('/'));
    // At send time, not only when saved: the allow-list may have changed since, and an IP
    // literal never reaches the guarded resolver.
    outbound
        .check_url(&url)
        .map_err(|e| Failure::NotAllowed(e.to_string()))?;
    let resp = outbound
        .client
        .post(&url)
        .json(body)
        .send()
        .await
        .map_err(Failure::from_reqwest)?;
    let status = resp.status();
    let answer: Value = resp
        .json()
        .await
        .map_err(|e| Failure::Unreachable(format!("{status}: {}", e.without_url())))?;
    if status.is_success() && answer["ok"] == Value::Bool(true) {
        return Ok(answer["result"].clone());
    }
    let code = answer["error_code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(status.as_u16());
    Err(Failure::Refused {
        code,
        description: answer["description"]
            .as_str()
            .unwrap_or("no description")
            .chars()
            .take(300)
            .collect(),
        retry_after: answer["parameters"]["retry_after"].as_i64(),
    })
}
