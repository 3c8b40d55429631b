//! Campaigns: the reminder and confirmation rules, each with how its messages ended (sent,
//! delivered, read, confirmed, canceled, handed to a person, failed by reason) drawn as a
//! chart, its runs, and "send now for a day" (`notifications::runs::start`, the API's). A
//! run's page shows its own outcome. Front desk (admins and reception) see and send; admins
//! make and stop rules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};

use super::auth::{FormPairs, Signed};
use super::chart::{self, Labelled};
use super::words::{self, Words};
use super::{hidden_unless, problem, refused, render, see_other, who, Console};
use crate::agenda::staff::{Role, Session};
use crate::api::notification_rules::{check_def, RuleIn, WhatsAppTemplateIn, WhenIn};
use crate::error::{Error, Result};
use crate::notifications::reports::{self, Report, Scope};
use crate::notifications::rules::{self, Rule, When};
use crate::notifications::runs;

fn front_desk(session: &Session) -> Option<Response> {
    hidden_unless(session.user.role != Role::Professional, session)
}

#[derive(Serialize)]
struct RuleView {
    id: String,
    name: String,
    when: String,
    channels: String,
    for_a_day: bool,
    chart: minijinja::Value,
    runs: Vec<RunLine>,
}

#[derive(Serialize)]
struct RunLine {
    id: String,
    day: String,
    total: i64,
}

pub async fn page(State(c): State<Console>, Signed(session): Signed) -> Response {
    if let Some(r) = front_desk(&session) {
        return r;
    }
    let user = &session.user;
    let t = words::of(&user.locale);
    let views = async {
        let mut views = Vec::new();
        for rule in rules::list(&c.db, &user.tenant).await? {
            views.push(view(&c, &session, t, rule).await?);
        }
        Ok::<_, Error>(views)
    };
    let rules = match views.await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    // "Today" for the date field, in the clinic's own zone.
    let zone = match crate::agenda::tenants::get(&c.db, &user.tenant).await {
        Ok(tenant) => jiff::tz::TimeZone::get(&tenant.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        Err(e) => return e.into_response(),
    };
    let today = c.clock.now().to_zoned(zone).date().to_string();
    render(
        StatusCode::OK,
        "campaigns.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token, rules, today,
        },
    )
}

async fn view(c: &Console, session: &Session, t: Words, rule: Rule) -> Result<RuleView> {
    let tenant = &session.user.tenant;
    let asks = rule.def.ask_confirmation;
    let report = reports::report(&c.db, tenant, Scope::Rule(&rule.id), asks).await?;
    let mut runs = Vec::new();
    for run in runs::for_rule(&c.db, tenant, &rule.id)
        .await?
        .into_iter()
        .take(10)
    {
        let r = reports::report(&c.db, tenant, Scope::Run(&run.id), asks).await?;
        runs.push(RunLine {
            id: run.id,
            day: run.day,
            total: r.total,
        });
    }
    Ok(RuleView {
        when: match &rule.def.when {
            When::BeforeStart { text, .. } => format!("{} {text}", t.get("before_start")),
            When::AfterEnd { text, .. } => format!("{} {text}", t.get("after_end")),
            When::On(event) => format!("{} {event}", t.get("on_event")),
        },
        for_a_day: !matches!(rule.def.when, When::On(_)),
        channels: rule.def.channels.join(", "),
        chart: outcome_chart(t, &rule.def.name, &report),
        name: rule.def.name,
        id: rule.id,
        runs,
    })
}

/// How the messages ended, one labelled bar per outcome (failures by reason).
fn outcome_chart(t: Words, name: &str, r: &Report) -> minijinja::Value {
    let mut bars: Vec<Labelled> = [
        ("sent", r.sent, "#0b4f9c"),
        ("delivered", r.delivered, "#1565c0"),
        ("read", r.read, "#2e7d32"),
        ("confirmed", r.confirmed, "#1b5e20"),
        ("canceled", r.canceled, "#8d6e63"),
        ("handed_over", r.person, "#6a1b9a"),
        ("no_answer", r.no_answer, "#757575"),
        ("missed", r.missed, "#b26a00"),
        ("planned", r.planned + r.queued, "#90a4ae"),
    ]
    .into_iter()
    .map(|(key, value, colour)| Labelled {
        label: t.get(outcome_key(key)).to_string(),
        value: u64::try_from(value).unwrap_or(0),
        colour,
    })
    .collect();
    for (reason, n) in &r.failed {
        bars.push(Labelled {
            label: format!("{}: {reason}", t.get("outcome_failed")),
            value: u64::try_from(*n).unwrap_or(0),
            colour: "#c62828",
        });
    }
    let title = format!("{name}: {} {}", r.total, t.get("messages"));
    minijinja::Value::from_safe_string(chart::labelled_bars(&title, &bars))
}

fn outcome_key(key: &str) -> &'static str {
    match key {
        "sent" => "outcome_sent",
        "delivered" => "outcome_delivered",
        "read" => "outcome_read",
        "confirmed" => "outcome_confirmed",
        "canceled" => "outcome_canceled",
        "handed_over" => "outcome_handed_over",
        "no_answer" => "outcome_no_answer",
        "missed" => "outcome_missed",
        _ => "outcome_planned",
    }
}

pub async fn run_page(
    State(c): State<Console>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = front_desk(&session) {
        return r;
    }
    let user = &session.user;
    let t = words::of(&user.locale);
    let read = async {
        let run = runs::get(&c.db, &user.tenant, &id).await?;
        let rule = rules::get(&c.db, &user.tenant, &run.rule_id).await?;
        let report = reports::report(
            &c.db,
            &user.tenant,
            Scope::Run(&run.id),
            rule.def.ask_confirmation,
        )
        .await?;
        Ok::<_, Error>((run, rule, report))
    };
    let (run, rule, report) = match read.await {
        Ok(found) => found,
        Err(Error::Problem(p)) if p.status == 404 => {
            return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found"))
        }
        Err(e) => return e.into_response(),
    };
    render(
        StatusCode::OK,
        "campaign_run.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token,
            name => rule.def.name, day => run.day, total => report.total,
            chart => outcome_chart(t, &rule.def.name, &report),
        },
    )
}

#[derive(Deserialize)]
pub struct RunForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
}

/// "Send now for a day": the rule's messages for that day's bookings, due at once.
pub async fn send_now(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<RunForm>,
) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role != Role::Professional) {
        return refused;
    }
    let session = &signed.0;
    let (tenant, locale) = (&session.user.tenant, session.user.locale.as_str());
    let started = async {
        let rule = rules::get(&c.db, tenant, &id).await?;
        let day = f
            .date
            .trim()
            .parse::<jiff::civil::Date>()
            .map_err(|_| Error::invalid("invalid_date", "date", "a date as YYYY-MM-DD"))?;
        runs::start(&c.db, tenant, &rule, day, c.clock.now_secs()).await
    };
    match started.await {
        Ok(run) => see_other(&format!("/console/campaigns/runs/{}", run.id)),
        Err(e) => refused(
            locale,
            e,
            &[
                ("past_date", "past_day"),
                ("invalid_date", "hours_unreadable"),
            ],
        ),
    }
}

/// Makes a rule from the form, checked by the API's own `check_def`. When: `before_start`,
/// `after_end` (an amount of hours or days) or `on` an event; the channels ticked, in the
/// form's order (the order of preference). `channel` repeats, one per ticked box, so the form
/// is read from its pairs.
pub async fn create_rule(
    State(c): State<Console>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormPairs(pairs);
    let field = |name: &str| form.field(name);
    // Who gets messaged is the clinic's decision: admins make and stop rules.
    if let Some(refused) = signed.form_refusal(&field("csrf"), signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let amount = field("amount");
    let duration = match field("unit").as_str() {
        "hours" => format!("PT{amount}H"),
        _ => format!("P{amount}D"),
    };
    let when = match field("when").as_str() {
        "after_end" => WhenIn {
            after_end: Some(duration),
            ..Default::default()
        },
        "on" => WhenIn {
            on: Some(field("event")),
            ..Default::default()
        },
        _ => WhenIn {
            before_start: Some(duration),
            ..Default::default()
        },
    };
    let template = Some(field("template"))
        .filter(|t| !t.is_empty())
        .map(|name| WhatsAppTemplateIn {
            name,
            language: field("template_language"),
            parameters: None,
            buttons: None,
        });
    let input = RuleIn {
        name: field("name"),
        when,
        channels: form.all("channel"),
        ask_confirmation: !field("ask").is_empty(),
        whatsapp_template: template,
        messages: None,
        calendar_ids: None,
        service_ids: None,
        grace: None,
    };
    let tenant = &session.user.tenant;
    let made = async {
        let def = check_def(&c.db, tenant, input).await?;
        rules::create(&c.db, tenant, def, c.clock.now_secs()).await
    };
    match made.await {
        Ok(_) => see_other("/console/campaigns"),
        Err(e) => refused(&session.user.locale, e, RULE_PHRASES),
    }
}

/// Refusals of a rule, in the staff member's words.
const RULE_PHRASES: &[(&str, &str)] = &[
    ("invalid_duration", "rule_when"),
    ("required", "rule_name"),
    ("too_long", "rule_name"),
    ("invalid_field", "rule_channels"),
];

#[derive(Deserialize)]
pub struct PlainForm {
    #[serde(default)]
    csrf: String,
}

/// Stops a rule: no more messages are planned from it (those sent stay in its reports).
pub async fn delete_rule(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<PlainForm>,
) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    match rules::delete(&c.db, &session.user.tenant, &id, c.clock.now_secs()).await {
        Ok(()) => see_other("/console/campaigns"),
        Err(e) => refused(&session.user.locale, e, &[]),
    }
}
