//! Request extractors whose failures are problem+json: JSON bodies (with the path of the
//! offending field), query strings, and the API key.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use turnero_core::ids::TenantId;

use crate::agenda::tenants;
use crate::api::AppState;
use crate::error::Error;

/// A JSON body deserialized with the path of any bad field reported back.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than this endpoint accepts",
                )
            } else {
                Error::bad_request("unreadable_body", e.body_text())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// An optional JSON body: no body at all is `None`, anything else must be valid JSON.
impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Error> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| Error::bad_request("unreadable_body", e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        <Json<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// Deserializes JSON; syntax errors are 400, well-formed JSON of the wrong shape is 422.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    refuse_nul(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            let e = Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                inner.to_string(),
            );
            if path == "." {
                e
            } else {
                e.at(path)
            }
        } else {
            malformed(inner)
        }
    })?;
    de.end().map_err(malformed)?;
    Ok(value)
}

/// A NUL character (`\u0000`) anywhere in a text is refused with the path of that text:
/// PostgreSQL cannot store it, and no name, note or message needs it. Only a body that spells
/// the escape at all is walked.
fn refuse_nul(bytes: &[u8]) -> Result<(), Error> {
    let spelled = bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|b| *b == b'0'));
    if !spelled {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(()); // the deserializer says what is wrong with it
    };
    match nul_at(&value, String::new()) {
        None => Ok(()),
        Some(path) => Err(nul_refused(if path.is_empty() { "." } else { &path })),
    }
}

/// The path of the first text (or key) holding a NUL, in serde_path_to_error's spelling.
fn nul_at(v: &serde_json::Value, path: String) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, item)| {
            if k.contains('\0') {
                // Named without the NUL: the answer must be storable and printable too.
                Some(join(&k.replace('\0', "")))
            } else {
                nul_at(item, join(k))
            }
        }),
        _ => None,
    }
}

fn nul_refused(field: &str) -> Error {
    Error::invalid(
        "invalid_field",
        field,
        "must not contain the NUL character (U+0000)",
    )
}

fn malformed(e: serde_json::Error) -> Error {
    Error::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
}

/// A query string; unknown or malformed parameters are a 400 naming the problem.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let raw = parts.uri.query().unwrap_or("");
        let nul = raw.contains("%00").then(|| {
            url::form_urlencoded::parse(raw.as_bytes())
                .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        });
        if let Some(Some((name, _))) = nul {
            return Err(nul_refused(&name.replace('\0', "")));
        }
        serde_urlencoded::from_str(raw)
            .map(Query)
            .map_err(|e| Error::bad_request("invalid_query", e.to_string()))
    }
}

/// The tenant an API key belongs to. Every agenda query is scoped by it.
pub struct Auth {
    pub tenant: TenantId,
    /// The tenant's region for reading phone numbers written without a country code.
    pub phone_region: String,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110 §11.1).
            .and_then(|v| {
                let (scheme, key) = v.trim_start().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(key)
            })
            .map(str::trim)
            .ok_or_else(Error::unauthorized)?;
        let now = state.clock.now_secs();
        let owner = tenants::tenant_for_key(&state.db, &state.keys, key, now)
            .await?
            .ok_or_else(Error::unauthorized)?;
        Ok(Auth {
            tenant: owner.tenant,
            phone_region: owner.phone_region,
        })
    }
}
