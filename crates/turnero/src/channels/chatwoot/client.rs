//! Calling Chatwoot's Application API: JSON with the `api_access_token` header, through the
//! outbound guard checked at every call. Errors come back as `{"error"}` or `{"message"}`.

use reqwest::Method;
use serde_json::Value;

use super::store::Channel;
use crate::channels::vendor::Failure;
use crate::outbound::Outbound;

/// One call to `{base_url}/api/v1/accounts/{account_id}{path}`; answers the JSON body.
pub async fn call(
    outbound: &Outbound,
    ch: &Channel,
    token: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<Value, Failure> {
    let url = ch.url(path);
    outbound
        .check_url(&url)
        .map_err(|e| Failure::NotAllowed(e.to_string()))?;
    let resp = outbound
        .client
        .request(method, &url)
        .header("api_access_token", token)
        .json(body)
        .send()
        .await
        .map_err(Failure::from_reqwest)?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(answer);
    }
    let why = answer["error"]
        .as_str()
        .or_else(|| answer["message"].as_str())
        .unwrap_or("no reason given");
    Err(Failure::Refused {
        code: status.as_u16(),
        description: why.chars().take(300).collect(),
        retry_after,
    })
}
