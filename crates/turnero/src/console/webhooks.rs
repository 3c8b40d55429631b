//! Integrations: each webhook's health as Botmaker's dashboard shows it (seed 001): a
//! histogram of ok / slow / error / rejected answers over the last 30 minutes, the fastest,
//! average, p95 and slowest times, the queue and the breaker, and the error log with the
//! receivers' answers; with on/off, test, resend, recover since a time and secret rotation.
//! Everything goes through the webhook hub's own functions (`webhooks::store`, `attempts`,
//! `manual`), the API's. Admins only: others are told it does not exist.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use turnero_core::ids::{AttemptId, WebhookId};

use super::auth::Signed;
use super::chart::{self, Bar, Series};
use super::words::{self, Words};
use super::{hidden_unless, problem, refused, render, see_other, who, Console};
use crate::agenda::staff::{Role, Session};
use crate::error::Error;
use crate::webhooks::{attempts, manual, store};

/// The window Botmaker's dashboard shows, in one-minute bars.
const WINDOW_MS: i64 = 30 * 60 * 1000;
const BUCKETS: i64 = 30;
/// Lines of the error log shown.
const ERRORS_SHOWN: i64 = 20;

/// Admins only: for anyone else the page does not exist (the refusal to answer).
fn not_admin(session: &Session) -> Option<Response> {
    hidden_unless(session.user.role == Role::Admin, session)
}

#[derive(Serialize)]
struct Line {
    id: String,
    url: String,
    enabled: bool,
    breaker: String,
    ok: u64,
    failed: u64,
}

pub async fn list(State(c): State<Console>, Signed(session): Signed) -> Response {
    if let Some(r) = not_admin(&session) {
        return r;
    }
    let user = &session.user;
    let now = c.clock.now_ms();
    let all = match store::list(&c.db, &user.tenant, now).await {
        Ok(all) => all,
        Err(e) => return e.into_response(),
    };
    let mut lines = Vec::new();
    for w in all {
        let id = WebhookId::from_trusted(w.id.clone());
        let s = match attempts::stats(
            &c.db,
            &user.tenant,
            &id,
            now,
            WINDOW_MS,
            1,
            c.hub.settings.slow_ms,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        };
        lines.push(Line {
            id: w.id,
            url: w.url,
            enabled: w.enabled,
            breaker: w.breaker.state,
            ok: s.totals.successful + s.totals.slow,
            failed: s.totals.failed + s.totals.rejected,
        });
    }
    let t = words::of(&user.locale);
    render(
        StatusCode::OK,
        "webhooks.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale),
            user => who(user),
            csrf => session.csrf_token, webhooks => lines,
        },
    )
}

#[derive(Deserialize)]
pub struct ShowQuery {
    /// The action just done, to say so.
    done: Option<String>,
}

pub async fn show(
    State(c): State<Console>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    shown(&c, &session, &id, q.done.as_deref(), None).await
}

async fn shown(
    c: &Console,
    session: &Session,
    id: &str,
    done: Option<&str>,
    secret: Option<String>,
) -> Response {
    if let Some(r) = not_admin(session) {
        return r;
    }
    let user = &session.user;
    let t = words::of(&user.locale);
    let Ok(id) = WebhookId::parse(id) else {
        return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found"));
    };
    let now = c.clock.now_ms();
    let read = async {
        let hook = store::get(&c.db, &user.tenant, &id, now).await?;
        let s = attempts::stats(
            &c.db,
            &user.tenant,
            &id,
            now,
            WINDOW_MS,
            BUCKETS,
            c.hub.settings.slow_ms,
        )
        .await?;
        let errors =
            attempts::list(&c.db, &user.tenant, &id, Some("failed"), None, ERRORS_SHOWN).await?;
        Ok::<_, Error>((hook, s, errors))
    };
    let (hook, s, errors) = match read.await {
        Ok(found) => found,
        Err(Error::Problem(p)) if p.status == 404 => {
            return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found"))
        }
        Err(e) => return e.into_response(),
    };
    let svg = histogram(t, &s);
    render(
        StatusCode::OK,
        "webhook.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale),
            user => who(user),
            csrf => session.csrf_token,
            hook, stats => s, errors, secret,
            chart => minijinja::Value::from_safe_string(svg),
            done => done.and_then(|d| done_phrase(t, d)),
        },
    )
}

/// The 30 one-minute bars: ok, slow, error, rejected.
fn histogram(t: Words, s: &attempts::StatsOut) -> String {
    let series = [
        Series {
            name: t.get("ok"),
            colour: "#2e7d32",
        },
        Series {
            name: t.get("slow"),
            colour: "#f9a825",
        },
        Series {
            name: t.get("error"),
            colour: "#c62828",
        },
        Series {
            name: t.get("rejected"),
            colour: "#6a1b9a",
        },
    ];
    let bars: Vec<Bar> = s
        .buckets
        .iter()
        .map(|b| Bar {
            // `2030-01-07T12:00:00.000Z` → `12:00` (UTC, as the title says).
            label: b.start.get(11..16).unwrap_or(&b.start).to_string(),
            parts: vec![
                b.counts.successful,
                b.counts.slow,
                b.counts.failed,
                b.counts.rejected,
            ],
        })
        .collect();
    let title = format!(
        "{} (UTC): {} {}, {} {}, {} {}, {} {}",
        t.get("last_30_minutes"),
        s.totals.successful,
        series[0].name,
        s.totals.slow,
        series[1].name,
        s.totals.failed,
        series[2].name,
        s.totals.rejected,
        series[3].name,
    );
    chart::stacked_bars(&title, &series, &bars)
}

fn done_phrase(t: Words, action: &str) -> Option<&'static str> {
    Some(match action {
        "on" => t.get("done_on"),
        "off" => t.get("done_off"),
        "test" => t.get("done_test"),
        "resend" => t.get("done_resend"),
        "recover" => t.get("done_recover"),
        _ => return None,
    })
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    /// `resend`: the attempt whose event goes again.
    attempt: Option<String>,
    /// `recover`: how many hours back.
    hours: Option<i64>,
}

/// On, off, test, resend, recover, rotate: each the API's own function.
pub async fn act(
    State(c): State<Console>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let (tenant, locale) = (&session.user.tenant, session.user.locale.as_str());
    let t = words::of(locale);
    let Ok(hook) = WebhookId::parse(&id) else {
        return problem(StatusCode::NOT_FOUND, locale, t.get("not_found"));
    };
    let now = c.clock.now_ms();
    let switch = |on: bool| store::WebhookPatch {
        enabled: Some(on),
        ..Default::default()
    };
    let done: Result<(), Error> = match action.as_str() {
        "on" | "off" => store::update(&c.db, tenant, &hook, switch(action == "on"), now)
            .await
            .map(drop),
        "test" => manual::send_test(&c.hub, tenant, &hook).await.map(drop),
        "resend" => match f.attempt.as_deref().map(AttemptId::parse) {
            Some(Ok(attempt)) => manual::resend(&c.hub, tenant, &hook, &attempt)
                .await
                .map(drop),
            _ => Err(Error::not_found("attempt")),
        },
        "recover" => {
            let hours = f.hours.unwrap_or(24).clamp(1, 24 * 14);
            manual::recover(&c.hub, tenant, &hook, now - hours * 3_600_000)
                .await
                .map(drop)
        }
        "rotate" => {
            return match store::rotate_secret(&c.db, tenant, &hook, None, now).await {
                Ok(out) => shown(&c, session, &id, None, out.secret).await,
                Err(e) => refused(locale, e, &[]),
            };
        }
        _ => return problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
    };
    match done {
        Ok(()) => see_other(&format!("/console/webhooks/{id}?done={action}")),
        Err(e) => refused(locale, e, &[]),
    }
}
