//! `/notification-rules`: reminders and confirmation campaigns as the clinic sets them, and
//! their reports. The wire shapes live here; the rules, the plan and the sending below.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use turnero_core::ids::{CalendarId, ServiceId};
use turnero_core::notice;
use turnero_core::time::fmt_ts;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::notification_reports::{ReportOut, RunOut};
use super::AppState;
use crate::agenda::{calendars, services};
use crate::error::{Error, Result};
use crate::notifications::reports::{self, Scope};
use crate::notifications::rules::{self, Rule, RuleDef, WhatsAppTemplate, When, ON_EVENTS};
use crate::notifications::runs;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_rule, list_rules))
        .routes(routes!(get_rule, patch_rule, delete_rule))
        .routes(routes!(run_rule))
}

/// When the message is due: exactly one of the three.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhenIn {
    /// An ISO 8601 duration before the start (`P1D`, `PT2H`); days are 24 real hours.
    pub before_start: Option<String>,
    /// An ISO 8601 duration after the end (a follow-up).
    pub after_end: Option<String>,
    /// `booking.created`, `booking.rescheduled` or `booking.canceled`: at once.
    pub on: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppTemplateIn {
    /// As approved with Meta (a UTILITY template for reminders).
    pub name: String,
    /// As approved, e.g. `es_AR`, `pt_BR`.
    pub language: String,
    /// The body's `{{1}}`, `{{2}}`… as message templates over the booking; by default the
    /// customer's first name and the local date and time.
    pub parameters: Option<Vec<String>>,
    /// The template's quick-reply buttons, in the order it was approved with: `confirm`,
    /// `cancel`, `person` (each tap acts as its name says). By default `["confirm",
    /// "cancel"]` when the rule asks for an answer, none otherwise.
    pub buttons: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    pub name: String,
    pub when: WhenIn,
    /// In order of preference: `whatsapp`, `email`, `telegram`, `chatwoot`; the next is tried
    /// when a customer cannot be reached on one.
    pub channels: Vec<String>,
    /// Asks the patient to confirm, cancel or talk to a person (buttons; links by mail).
    #[serde(default)]
    pub ask_confirmation: bool,
    /// Needed on WhatsApp outside the 24-hour window.
    pub whatsapp_template: Option<WhatsAppTemplateIn>,
    /// Message templates by language (`es`, `pt`, `en`), minijinja over `customer.name`,
    /// `customer.first_name`, `clinic`, `professional`, `service`, `location`, `date`, `time`,
    /// `when`, `links.confirm`, `links.cancel`; the built-in words where absent.
    pub messages: Option<BTreeMap<String, String>>,
    /// Only these calendars (default all).
    pub calendar_ids: Option<Vec<String>>,
    /// Only these services (default all).
    pub service_ids: Option<Vec<String>>,
    /// How late a message may still go (ISO 8601, default `PT1H`); later it is `missed`.
    pub grace: Option<String>,
}

/// Any of [`RuleIn`]'s fields; the others stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    pub name: Option<String>,
    pub when: Option<WhenIn>,
    pub channels: Option<Vec<String>>,
    pub ask_confirmation: Option<bool>,
    pub whatsapp_template: Option<WhatsAppTemplateIn>,
    pub messages: Option<BTreeMap<String, String>>,
    pub calendar_ids: Option<Vec<String>>,
    pub service_ids: Option<Vec<String>>,
    pub grace: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub id: String,
    pub name: String,
    /// As given: `{"before_start": "P1D"}`, `{"after_end": "PT2H"}` or `{"on": "booking.created"}`.
    #[schema(value_type = Object)]
    pub when: Value,
    pub channels: Vec<String>,
    pub ask_confirmation: bool,
    pub whatsapp_template: Option<WhatsAppTemplateIn>,
    pub messages: BTreeMap<String, String>,
    pub calendar_ids: Vec<String>,
    pub service_ids: Vec<String>,
    pub grace_seconds: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Everything this rule planned and sent so far.
    pub report: ReportOut,
}

fn rule_out(r: Rule, report: reports::Report) -> RuleOut {
    let when = match &r.def.when {
        When::BeforeStart { text, .. } => json!({"before_start": text}),
        When::AfterEnd { text, .. } => json!({"after_end": text}),
        When::On(event) => json!({"on": event}),
    };
    RuleOut {
        id: r.id,
        name: r.def.name,
        when,
        channels: r.def.channels,
        ask_confirmation: r.def.ask_confirmation,
        whatsapp_template: r.def.whatsapp_template.map(|t| WhatsAppTemplateIn {
            name: t.name,
            language: t.language,
            parameters: Some(t.parameters),
            buttons: Some(t.buttons),
        }),
        messages: r.def.messages,
        calendar_ids: r.def.calendar_ids,
        service_ids: r.def.service_ids,
        grace_seconds: r.def.grace_secs,
        created_at: fmt_ts(r.created_at),
        updated_at: fmt_ts(r.updated_at),
        report: report.into(),
    }
}

/// Reads an ISO 8601 duration as exact seconds (a day is 24 real hours, so "a day before" is
/// 24 hours before across a clock change too); months and years are refused.
fn duration(raw: &str, field: &str, max_secs: i64) -> Result<(String, i64)> {
    let bad = || {
        Error::invalid(
            "invalid_duration",
            field,
            "an ISO 8601 duration in weeks, days, hours or minutes (`P1D`, `PT2H`, `PT30M`)",
        )
    };
    let span: jiff::Span = raw.trim().parse().map_err(|_| bad())?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(bad());
    }
    let secs = span
        .total((
            jiff::Unit::Second,
            jiff::SpanRelativeTo::days_are_24_hours(),
        ))
        .map_err(|_| bad())? as i64;
    if secs < 0 || secs > max_secs {
        return Err(Error::invalid(
            "invalid_duration",
            field,
            format!("between 0 and {} days", max_secs / 86_400),
        ));
    }
    Ok((raw.trim().to_string(), secs))
}

fn when(w: &WhenIn) -> Result<When> {
    const MAX: i64 = 365 * 86_400;
    match (&w.before_start, &w.after_end, &w.on) {
        (Some(d), None, None) => {
            let (text, secs) = duration(d, "when.before_start", MAX)?;
            Ok(When::BeforeStart { text, secs })
        }
        (None, Some(d), None) => {
            let (text, secs) = duration(d, "when.after_end", MAX)?;
            Ok(When::AfterEnd { text, secs })
        }
        (None, None, Some(e)) if ON_EVENTS.contains(&e.as_str()) => Ok(When::On(e.clone())),
        (None, None, Some(_)) => Err(Error::invalid(
            "invalid_field",
            "when.on",
            format!("one of {}", ON_EVENTS.join(", ")),
        )),
        _ => Err(Error::invalid(
            "invalid_field",
            "when",
            "exactly one of before_start, after_end or on",
        )),
    }
}

const CHANNELS: &[&str] = &["whatsapp", "email", "telegram", "chatwoot"];
const LANGUAGES: &[&str] = &["es", "pt", "en"];

fn template_text(raw: &str, field: &str, max: usize) -> Result<String> {
    let text = super::parse::text(raw, field, max)?;
    notice::check(&text).map_err(|e| Error::invalid("invalid_template", field, e))?;
    Ok(text)
}

fn whatsapp_template(t: &WhatsAppTemplateIn, ask_confirmation: bool) -> Result<WhatsAppTemplate> {
    let name_ok = !t.name.is_empty()
        && t.name.len() <= 512
        && t.name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(Error::invalid(
            "invalid_field",
            "whatsapp_template.name",
            "lowercase letters, digits and _ (as Meta names templates)",
        ));
    }
    let language_ok = (2..=16).contains(&t.language.len())
        && t.language
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
    if !language_ok {
        return Err(Error::invalid(
            "invalid_field",
            "whatsapp_template.language",
            "a template language code such as es_AR or pt_BR",
        ));
    }
    let given = t.parameters.clone().unwrap_or_else(|| {
        vec![
            "{{ customer.first_name }}".to_string(),
            "{{ when }}".to_string(),
        ]
    });
    if given.len() > 10 {
        return Err(Error::invalid(
            "invalid_field",
            "whatsapp_template.parameters",
            "at most 10 parameters",
        ));
    }
    let mut parameters = Vec::with_capacity(given.len());
    for (i, p) in given.iter().enumerate() {
        parameters.push(template_text(
            p,
            &format!("whatsapp_template.parameters[{i}]"),
            1024,
        )?);
    }
    let buttons = match &t.buttons {
        Some(b) => b.clone(),
        None if ask_confirmation => vec!["confirm".into(), "cancel".into()],
        None => vec![],
    };
    for (i, b) in buttons.iter().enumerate() {
        let known = turnero_core::notice::Answer::from_name(b).is_some();
        if !known || buttons[..i].contains(b) {
            return Err(Error::invalid(
                "invalid_field",
                format!("whatsapp_template.buttons[{i}]"),
                "confirm, cancel or person, each once, in the template's order",
            ));
        }
    }
    Ok(WhatsAppTemplate {
        name: t.name.clone(),
        language: t.language.clone(),
        parameters,
        buttons,
    })
}

/// A rule as sent, checked whole (the console's form is checked here too).
pub async fn check_def(
    db: &crate::db::Db,
    tenant: &turnero_core::ids::TenantId,
    input: RuleIn,
) -> Result<RuleDef> {
    let name = super::parse::name(&input.name, "name", 100)?;
    let when = when(&input.when)?;
    if input.channels.is_empty() || input.channels.len() > CHANNELS.len() {
        return Err(Error::invalid(
            "invalid_field",
            "channels",
            format!(
                "one or more of {}, in order of preference",
                CHANNELS.join(", ")
            ),
        ));
    }
    for (i, c) in input.channels.iter().enumerate() {
        if !CHANNELS.contains(&c.as_str()) || input.channels[..i].contains(c) {
            return Err(Error::invalid(
                "invalid_field",
                format!("channels[{i}]"),
                format!("one of {}, each once", CHANNELS.join(", ")),
            ));
        }
    }
    let whatsapp_template = input
        .whatsapp_template
        .as_ref()
        .map(|t| whatsapp_template(t, input.ask_confirmation))
        .transpose()?;
    let mut messages = BTreeMap::new();
    for (lang, text) in input.messages.unwrap_or_default() {
        let field = format!("messages.{lang}");
        if !LANGUAGES.contains(&lang.as_str()) {
            return Err(Error::invalid("invalid_field", field, "es, pt or en"));
        }
        let text = template_text(&text, &field, 1024)?;
        messages.insert(lang, text);
    }
    let mut calendar_ids = Vec::new();
    for (i, raw) in input.calendar_ids.unwrap_or_default().iter().enumerate() {
        let field = format!("calendar_ids[{i}]");
        let id = super::parse::body_id(raw, &field, CalendarId::parse)?;
        calendars::get(db, tenant, &id)
            .await
            .map_err(|_| Error::invalid("unknown_calendar", field, "no such calendar"))?;
        calendar_ids.push(id.as_str().to_string());
    }
    let mut service_ids = Vec::new();
    for (i, raw) in input.service_ids.unwrap_or_default().iter().enumerate() {
        let field = format!("service_ids[{i}]");
        let id = super::parse::body_id(raw, &field, ServiceId::parse)?;
        services::get(db, tenant, &id)
            .await
            .map_err(|_| Error::invalid("unknown_service", field, "no such service"))?;
        service_ids.push(id.as_str().to_string());
    }
    let grace_secs = match &input.grace {
        Some(g) => duration(g, "grace", 86_400)?.1,
        None => 3600,
    };
    Ok(RuleDef {
        name,
        when,
        channels: input.channels,
        ask_confirmation: input.ask_confirmation,
        whatsapp_template,
        messages,
        calendar_ids,
        service_ids,
        grace_secs,
    })
}

async fn with_report(s: &AppState, auth: &Auth, r: Rule) -> Result<RuleOut> {
    let asks = r.def.ask_confirmation;
    let report = reports::report(&s.db, &auth.tenant, Scope::Rule(&r.id), asks).await?;
    Ok(rule_out(r, report))
}

/// Saves a rule and plans its messages for the bookings already in the agenda.
#[utoipa::path(post, path = "/notification-rules", tag = "notifications", request_body = RuleIn,
    responses((status = 201, body = RuleOut), (status = 422, body = crate::error::Problem)))]
async fn create_rule(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<RuleIn>,
) -> Result<(StatusCode, axum::Json<RuleOut>)> {
    let def = check_def(&s.db, &auth.tenant, input).await?;
    let rule = rules::create(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(with_report(&s, &auth, rule).await?),
    ))
}

#[utoipa::path(get, path = "/notification-rules", tag = "notifications",
    responses((status = 200, body = Vec<RuleOut>)))]
async fn list_rules(State(s): State<AppState>, auth: Auth) -> Result<axum::Json<Vec<RuleOut>>> {
    let mut out = Vec::new();
    for r in rules::list(&s.db, &auth.tenant).await? {
        out.push(with_report(&s, &auth, r).await?);
    }
    Ok(axum::Json(out))
}

#[utoipa::path(get, path = "/notification-rules/{id}", tag = "notifications",
    responses((status = 200, body = RuleOut), (status = 404, body = crate::error::Problem)))]
async fn get_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<RuleOut>> {
    let rule = rules::get(&s.db, &auth.tenant, &id).await?;
    Ok(axum::Json(with_report(&s, &auth, rule).await?))
}

/// Changes a rule; what it had planned and not yet sent is planned again.
#[utoipa::path(patch, path = "/notification-rules/{id}", tag = "notifications",
    request_body = RulePatch, responses((status = 200, body = RuleOut),
    (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn patch_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(patch): Json<RulePatch>,
) -> Result<axum::Json<RuleOut>> {
    let old = rules::get(&s.db, &auth.tenant, &id).await?;
    let (when_before, when_after, on) = match &old.def.when {
        When::BeforeStart { text, .. } => (Some(text.clone()), None, None),
        When::AfterEnd { text, .. } => (None, Some(text.clone()), None),
        When::On(e) => (None, None, Some(e.clone())),
    };
    let template = old.def.whatsapp_template.map(|t| WhatsAppTemplateIn {
        name: t.name,
        language: t.language,
        parameters: Some(t.parameters),
        buttons: Some(t.buttons),
    });
    let merged = RuleIn {
        name: patch.name.unwrap_or(old.def.name),
        when: patch.when.unwrap_or(WhenIn {
            before_start: when_before,
            after_end: when_after,
            on,
        }),
        channels: patch.channels.unwrap_or(old.def.channels),
        ask_confirmation: patch.ask_confirmation.unwrap_or(old.def.ask_confirmation),
        whatsapp_template: patch.whatsapp_template.or(template),
        messages: Some(patch.messages.unwrap_or(old.def.messages)),
        calendar_ids: Some(patch.calendar_ids.unwrap_or(old.def.calendar_ids)),
        service_ids: Some(patch.service_ids.unwrap_or(old.def.service_ids)),
        grace: Some(
            patch
                .grace
                .unwrap_or_else(|| format!("PT{}S", old.def.grace_secs)),
        ),
    };
    let def = check_def(&s.db, &auth.tenant, merged).await?;
    let rule = rules::update(&s.db, &auth.tenant, &id, def, s.clock.now_secs()).await?;
    Ok(axum::Json(with_report(&s, &auth, rule).await?))
}

/// Deletes a rule: what it had not sent is dropped; what it sent stays in the reports.
#[utoipa::path(delete, path = "/notification-rules/{id}", tag = "notifications",
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    rules::delete(&s.db, &auth.tenant, &id, s.clock.now_secs()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIn {
    /// The day whose bookings get the message now (`YYYY-MM-DD`, in each calendar's zone).
    #[schema(format = Date)]
    pub date: String,
}

/// "Send now": what the rule would send for that day's bookings, due at once. A booking
/// already sent this rule's message for that appointment is not sent it again.
#[utoipa::path(post, path = "/notification-rules/{id}/run", tag = "notifications",
    request_body = RunIn, responses((status = 202, body = RunOut),
    (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem)))]
async fn run_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<RunIn>,
) -> Result<(StatusCode, axum::Json<RunOut>)> {
    let rule = rules::get(&s.db, &auth.tenant, &id).await?;
    let day: jiff::civil::Date = input
        .date
        .parse()
        .map_err(|_| Error::invalid("invalid_date", "date", "a date as YYYY-MM-DD"))?;
    let now = s.clock.now_secs();
    let run = runs::start(&s.db, &auth.tenant, &rule, day, now).await?;
    let out =
        super::notification_reports::run_out(&s, &auth, run, rule.def.ask_confirmation).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(out)))
}
