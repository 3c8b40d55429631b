//! Signing in and out, the session cookie, and the CSRF token every form carries.
//!
//! The session cookie is HttpOnly, SameSite=Lax and scoped to `/console`; the database keeps
//! only its SHA-256 (`agenda::staff`). Each session has a CSRF token that every form posts
//! back; the sign-in form, which has no session yet, checks a token it set in a SameSite=Strict
//! cookie against the one in the form (double submit), so another site cannot sign a browser
//! into an account of its choosing.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use super::{problem, render, see_other, words, Console};
use crate::agenda::staff::{self, Session, SignIn};

pub const SESSION_COOKIE: &str = "turnero_session";
const LOGIN_COOKIE: &str = "turnero_login";
/// A wrong password is answered this late: guessing online is slow even before the lock.
const WRONG_PASSWORD_DELAY: Duration = Duration::from_secs(1);

/// The value of one cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Adds a `Set-Cookie` to `r`: HttpOnly always, `Secure` when the console is served over
/// https; `max_age` 0 removes the cookie.
fn set_cookie(
    r: &mut Response,
    c: &Console,
    (name, value): (&str, &str),
    path: &str,
    same_site: &str,
    max_age: i64,
) {
    let secure = if c.secure_cookies { "; Secure" } else { "" };
    let line = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&line) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The language a page is shown in before anyone has signed in: the browser's first choice
/// among Spanish, Portuguese and English (Spanish otherwise).
pub fn browser_locale(headers: &HeaderMap) -> &'static str {
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for tag in accepted.split(',') {
        match tag.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("es") => return "es",
            Some("pt") => return "pt",
            Some("en") => return "en",
            _ => {}
        }
    }
    "es"
}

/// A request from a signed-in staff member. Without a live session: to the sign-in page,
/// which brings the person back here afterwards.
pub struct Signed(pub Session);

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Console) -> Result<Self, Response> {
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
            match staff::session(&state.db, &token, state.clock.now_secs()).await {
                Ok(Some(s)) => return Ok(Signed(s)),
                Ok(None) => {}
                Err(e) => return Err(e.into_response()),
            }
        }
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/console/agenda");
        let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        Err(see_other(&format!("/console/login?next={next}")))
    }
}

impl Signed {
    /// The refusal for a form whose CSRF token is not this session's; `None` when it is.
    pub fn csrf_refusal(&self, sent: &str) -> Option<Response> {
        (!crate::secrets::same(sent, &self.0.csrf_token)).then(|| {
            problem(
                StatusCode::FORBIDDEN,
                &self.0.user.locale,
                words::of(&self.0.user.locale).get("csrf_refused"),
            )
        })
    }

    /// The refusal for a form this person may not send: a wrong CSRF token (403), or a page
    /// their role does not see ("not found"); `None` when it may go ahead.
    pub fn form_refusal(&self, sent: &str, allowed: bool) -> Option<Response> {
        self.csrf_refusal(sent)
            .or_else(|| super::hidden_unless(allowed, &self.0))
    }
}

/// A form read as its pairs, for forms where a name repeats (one per ticked box).
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// The first value sent under `name`, trimmed (empty when absent).
    pub fn field(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// Every value sent under `name`, in the form's order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Where to go after signing in: only a console page of this site.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| n.starts_with("/console/") && !n.contains("//") && !n.contains('\\'))
        .unwrap_or("/console/agenda")
}

pub async fn home(signed: Result<Signed, Response>) -> Response {
    match signed {
        Ok(_) => see_other("/console/agenda"),
        Err(to_login) => to_login,
    }
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn login_page(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    login_form(&c, &headers, q.next.as_deref(), None, StatusCode::OK)
}

fn login_form(
    c: &Console,
    headers: &HeaderMap,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let locale = browser_locale(headers);
    let csrf = crate::secrets::random_hex(32);
    let mut r = render(
        status,
        "login.html",
        minijinja::context! {
            t => words::of(locale).value(),
            lang => words::lang(locale),
            csrf,
            next => safe_next(next),
            error,
        },
    );
    set_cookie(
        &mut r,
        c,
        (LOGIN_COOKIE, &csrf),
        "/console/login",
        "Strict",
        3600,
    );
    r
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// Sign-in attempts from one address: 10 at once, then one every 3 s. Accounts lock after
/// five wrong passwords; this keeps one address from trying many accounts.
pub fn signin_limiter() -> DefaultKeyedRateLimiter<IpAddr> {
    RateLimiter::keyed(
        Quota::per_minute(NonZeroU32::new(20).expect("non-zero"))
            .allow_burst(NonZeroU32::new(10).expect("non-zero")),
    )
}

pub async fn login(
    State(c): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let locale = browser_locale(&headers);
    let t = words::of(locale);
    let address = crate::api::visitor_limits::client_address(peer, &headers);
    let clock_now = c.signins.clock().now();
    if let Err(not_until) = c.signins.check_key(&address) {
        let wait = not_until.wait_time_from(clock_now).as_secs() + 1;
        let mut r = problem(
            StatusCode::TOO_MANY_REQUESTS,
            locale,
            t.get("too_many_signins"),
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !crate::secrets::same(&f.csrf, &expected) {
        return problem(StatusCode::FORBIDDEN, locale, t.get("csrf_refused"));
    }
    let now = c.clock.now_secs();
    match staff::sign_in(&c.db, &f.email, &f.password, now).await {
        Ok(SignIn::Welcome {
            token,
            user_id,
            tenant,
        }) => {
            tracing::info!(user = user_id, tenant = tenant.as_str(), "staff signed in");
            let mut r = see_other(safe_next(f.next.as_deref()));
            let session = (SESSION_COOKIE, token.as_str());
            set_cookie(
                &mut r,
                &c,
                session,
                "/console",
                "Lax",
                staff::SESSION_SECONDS,
            );
            set_cookie(
                &mut r,
                &c,
                (LOGIN_COOKIE, ""),
                "/console/login",
                "Strict",
                0,
            );
            r
        }
        Ok(SignIn::Wrong) => {
            tokio::time::sleep(WRONG_PASSWORD_DELAY).await;
            login_form(
                &c,
                &headers,
                f.next.as_deref(),
                Some(t.get("wrong_password")),
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(SignIn::Locked { until }) => {
            let minutes = ((until - now) + 59) / 60;
            let message = t.get("locked").replace("{minutes}", &minutes.to_string());
            let mut r = problem(StatusCode::TOO_MANY_REQUESTS, locale, &message);
            if let Ok(v) = HeaderValue::from_str(&(until - now).max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    State(c): State<Console>,
    headers: HeaderMap,
    signed: Signed,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = staff::sign_out(&c.db, &token).await {
            return e.into_response();
        }
    }
    let mut r = see_other("/console/login");
    set_cookie(&mut r, &c, (SESSION_COOKIE, ""), "/console", "Lax", 0);
    r
}
