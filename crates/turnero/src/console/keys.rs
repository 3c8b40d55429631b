//! Settings: the clinic's API keys, for the machines that talk to turnero (admins only):
//! each with its name, its first characters and when it was last used; a new one shown
//! once; revoking one (not the last: a clinic keeps a way in). The agenda's `api_keys`
//! functions, as `turnero key …` and the API's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use turnero_core::flow::labels;

use super::auth::Signed;
use super::words;
use super::{hidden_unless, refused, render, see_other, who, Console};
use crate::agenda::api_keys;
use crate::agenda::staff::{Role, Session};

/// Refusals about keys, in the admin's words.
const KEY_PHRASES: &[(&str, &str)] = &[
    ("last_key", "last_key"),
    ("required", "key_name"),
    ("too_long", "key_name"),
    ("invalid_field", "key_name"),
];

#[derive(Serialize)]
struct KeyLine {
    id: String,
    name: String,
    prefix: String,
    created: String,
    used: Option<String>,
}

/// A key just made, to show once.
#[derive(Serialize)]
struct NewKey {
    name: String,
    key: String,
}

pub async fn page(State(c): State<Console>, Signed(session): Signed) -> Response {
    shown(&c, &session, None).await
}

async fn shown(c: &Console, session: &Session, made: Option<NewKey>) -> Response {
    if let Some(r) = hidden_unless(session.user.role == Role::Admin, session) {
        return r;
    }
    let user = &session.user;
    let keys = match api_keys::list(&c.db, &user.tenant).await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    let when = |at: i64| labels::when(&user.locale, at, 0) + " UTC";
    let keys: Vec<KeyLine> = keys
        .into_iter()
        .map(|k| KeyLine {
            created: when(k.created_at),
            used: k.last_used_at.map(when),
            id: k.id,
            name: k.name,
            prefix: k.prefix,
        })
        .collect();
    let t = words::of(&user.locale);
    render(
        StatusCode::OK,
        "keys.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token, keys, made,
        },
    )
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn create(State(c): State<Console>, signed: Signed, Form(f): Form<KeyForm>) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let made = async {
        let name = crate::api::parse::name(&f.name, "name", 100)?;
        let now = c.clock.now_secs();
        api_keys::create(&c.db, &session.user.tenant, &name, now).await
    };
    match made.await {
        Ok((k, key)) => shown(&c, session, Some(NewKey { name: k.name, key })).await,
        Err(e) => refused(&session.user.locale, e, KEY_PHRASES),
    }
}

pub async fn revoke(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<KeyForm>,
) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    match api_keys::revoke(&c.db, &session.user.tenant, &id, c.clock.now_secs()).await {
        Ok(()) => see_other("/console/keys"),
        Err(e) => refused(&session.user.locale, e, KEY_PHRASES),
    }
}
