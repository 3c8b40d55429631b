//! What the reminders did: a rule's runs and their reports, a booking's messages, and the
//! tenant's quiet hours.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use turnero_core::ids::BookingId;
use turnero_core::time::{fmt_ts, TimeOfDay};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::agenda::bookings;
use crate::error::{Error, Result};
use crate::notifications::plans::{self, Plan};
use crate::notifications::reports::{self, Report, Scope};
use crate::notifications::rules;
use crate::notifications::runs::{self, Run};
use crate::notifications::settings::{self, QuietHours};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(booking_notifications))
        .routes(routes!(get_settings, put_settings))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub total: i64,
    pub planned: i64,
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    /// By reason: `no_phone`, `no_email`, `no_template`, `invalid_email`, `meta_error`, the
    /// channel's refusal…
    pub failed: BTreeMap<String, i64>,
    pub missed: i64,
    pub skipped: i64,
    pub confirmed: i64,
    pub canceled: i64,
    /// Asked to talk to a person.
    pub person: i64,
    pub no_answer: i64,
}

impl From<Report> for ReportOut {
    fn from(r: Report) -> Self {
        ReportOut {
            total: r.total,
            planned: r.planned,
            queued: r.queued,
            sent: r.sent,
            delivered: r.delivered,
            read: r.read,
            failed: r.failed,
            missed: r.missed,
            skipped: r.skipped,
            confirmed: r.confirmed,
            canceled: r.canceled,
            person: r.person,
            no_answer: r.no_answer,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    pub id: String,
    pub rule_id: String,
    #[schema(format = Date)]
    pub date: String,
    pub created_at: String,
    pub report: ReportOut,
}

pub(super) async fn run_out(s: &AppState, auth: &Auth, run: Run, asks: bool) -> Result<RunOut> {
    let report = reports::report(&s.db, &auth.tenant, Scope::Run(&run.id), asks).await?;
    Ok(RunOut {
        id: run.id,
        rule_id: run.rule_id,
        date: run.day,
        created_at: fmt_ts(run.created_at),
        report: report.into(),
    })
}

#[utoipa::path(get, path = "/notification-rules/{id}/runs", tag = "notifications",
    responses((status = 200, body = Vec<RunOut>), (status = 404, body = crate::error::Problem)))]
async fn list_runs(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<RunOut>>> {
    let rule = rules::get(&s.db, &auth.tenant, &id).await?;
    let mut out = Vec::new();
    for run in runs::for_rule(&s.db, &auth.tenant, &rule.id).await? {
        out.push(run_out(&s, &auth, run, rule.def.ask_confirmation).await?);
    }
    Ok(axum::Json(out))
}

#[utoipa::path(get, path = "/notification-runs/{id}", tag = "notifications",
    responses((status = 200, body = RunOut), (status = 404, body = crate::error::Problem)))]
async fn get_run(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<RunOut>> {
    let run = runs::get(&s.db, &auth.tenant, &id).await?;
    let asks = rules::get(&s.db, &auth.tenant, &run.rule_id)
        .await
        .map(|r| r.def.ask_confirmation)
        .unwrap_or(false);
    Ok(axum::Json(run_out(&s, &auth, run, asks).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: String,
    pub rule_id: String,
    pub run_id: Option<String>,
    /// `planned`, `queued`, `sent`, `failed`, `missed` or `skipped`.
    pub state: String,
    pub due_at: String,
    pub channel: Option<String>,
    pub reason: Option<String>,
    /// `confirmed`, `canceled` or `person`.
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub sent_at: Option<String>,
    /// The conversation it went to (its transcript shows the message).
    pub conversation_id: Option<String>,
}

impl From<Plan> for NotificationOut {
    fn from(p: Plan) -> Self {
        NotificationOut {
            id: p.public_id(),
            rule_id: p.rule_id,
            run_id: p.run_id,
            state: p.state,
            due_at: fmt_ts(p.due_at),
            channel: p.channel,
            reason: p.reason,
            answer: p.answer,
            answered_at: p.answered_at.map(fmt_ts),
            sent_at: p.sent_at.map(fmt_ts),
            conversation_id: p.conversation_id,
        }
    }
}

/// What is planned and what was sent for a booking.
#[utoipa::path(get, path = "/bookings/{id}/notifications", tag = "notifications",
    responses((status = 200, body = Vec<NotificationOut>), (status = 404, body = crate::error::Problem)))]
async fn booking_notifications(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<NotificationOut>>> {
    let id = super::parse::path_id(&id, "booking", BookingId::parse)?;
    let booking = bookings::get(&s.db, &auth.tenant, &id).await?;
    let rows = plans::for_booking(&s.db, &auth.tenant, &booking.id).await?;
    Ok(axum::Json(
        rows.into_iter().map(NotificationOut::from).collect(),
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursIn {
    /// Local time they begin, `HH:MM`.
    pub from: String,
    /// Local time they end, `HH:MM` (before `from` wraps midnight).
    pub to: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// No message in these local hours (each calendar's zone); `null` for none.
    pub quiet_hours: Option<QuietHoursIn>,
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[utoipa::path(get, path = "/notification-settings", tag = "notifications",
    responses((status = 200, body = NotificationSettings)))]
async fn get_settings(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<NotificationSettings>> {
    let quiet = settings::quiet_hours(&s.db, &auth.tenant).await?;
    Ok(axum::Json(NotificationSettings {
        quiet_hours: quiet.map(|q| QuietHoursIn {
            from: hhmm(q.from),
            to: hhmm(q.to),
        }),
    }))
}

#[utoipa::path(put, path = "/notification-settings", tag = "notifications",
    request_body = NotificationSettings, responses((status = 200, body = NotificationSettings),
    (status = 422, body = crate::error::Problem)))]
async fn put_settings(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<NotificationSettings>,
) -> Result<axum::Json<NotificationSettings>> {
    let quiet = match &input.quiet_hours {
        None => None,
        Some(q) => {
            let read = |raw: &str, field: &str| {
                TimeOfDay::parse(raw)
                    .ok()
                    .map(|t| t.minutes())
                    .filter(|m| *m < 24 * 60)
                    .ok_or_else(|| Error::invalid("invalid_time", field, "a local time as HH:MM"))
            };
            let (from, to) = (
                read(&q.from, "quiet_hours.from")?,
                read(&q.to, "quiet_hours.to")?,
            );
            if from == to {
                return Err(Error::invalid(
                    "invalid_time",
                    "quiet_hours.to",
                    "must differ from `from`",
                ));
            }
            Some(QuietHours { from, to })
        }
    };
    settings::set_quiet_hours(&s.db, &auth.tenant, quiet, s.clock.now_secs()).await?;
    Ok(axum::Json(input))
}
