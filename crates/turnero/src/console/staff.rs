//! Settings: the clinic's staff accounts (admins only) and each person's language (anyone).
//! A new account gets a generated password, shown once to the admin who made it; a new
//! password ends the person's sessions; the clinic's last admin cannot be removed. Accounts
//! are made by `agenda::staff::create`, as `turnero user create` makes them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use turnero_core::ids::CalendarId;

use super::auth::{FormPairs, Signed};
use super::words;
use super::{hidden_unless, problem, refused, render, see_other, who, Console};
use crate::agenda::staff::{self, NewStaff, Role, Session};
use crate::agenda::{calendars, staff_admin};
use crate::error::Error;

/// Refusals about accounts, in the admin's words.
const TEAM_PHRASES: &[(&str, &str)] = &[
    ("last_admin", "last_admin"),
    ("email_taken", "email_taken"),
    ("invalid_email", "invalid_email"),
];

#[derive(Serialize)]
struct Person {
    id: String,
    email: String,
    role: &'static str,
    locale: String,
    calendars: Vec<String>,
    me: bool,
}

/// A password just made, to show once.
#[derive(Serialize)]
struct NewPassword {
    email: String,
    password: String,
}

pub async fn page(State(c): State<Console>, Signed(session): Signed) -> Response {
    shown(&c, &session, None).await
}

async fn shown(c: &Console, session: &Session, made: Option<NewPassword>) -> Response {
    if let Some(r) = hidden_unless(session.user.role == Role::Admin, session) {
        return r;
    }
    let user = &session.user;
    let (people, cals) = match (
        staff_admin::list(&c.db, &user.tenant).await,
        calendars::list(&c.db, &user.tenant).await,
    ) {
        (Ok(p), Ok(cals)) => (p, cals),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let name_of = |id: &String| {
        cals.iter()
            .find(|cal| &cal.id == id)
            .map_or(id.clone(), |cal| cal.name.clone())
    };
    let people: Vec<Person> = people
        .iter()
        .map(|p| Person {
            id: p.id.clone(),
            email: p.email.clone(),
            role: p.role.as_str(),
            locale: p.locale.clone(),
            calendars: p.calendars.iter().map(name_of).collect(),
            me: p.id == user.id,
        })
        .collect();
    let calendars: Vec<_> = cals
        .iter()
        .filter(|cal| cal.archived_at.is_none())
        .map(|cal| minijinja::context! { id => cal.id, name => cal.name })
        .collect();
    let t = words::of(&user.locale);
    render(
        StatusCode::OK,
        "staff.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token, people, calendars, made,
        },
    )
}

/// The add form: `calendar` repeats, one per ticked box, so it is read from the raw pairs.
pub async fn create(
    State(c): State<Console>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormPairs(pairs);
    let field = |name: &str| form.field(name);
    if let Some(refused) = signed.form_refusal(&field("csrf"), signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let locale = session.user.locale.as_str();
    let made = async {
        let role = staff_admin::role_named(&field("role"))?;
        let calendars = form
            .all("calendar")
            .iter()
            .map(|v| {
                CalendarId::parse(v).map_err(|_| {
                    Error::invalid("unknown_calendar", "calendar_ids", "no such calendar")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let password = staff::generate_password();
        let new = NewStaff {
            email: field("email"),
            password: password.clone(),
            role,
            locale: field("locale"),
            calendars: if role == Role::Professional {
                calendars
            } else {
                Vec::new()
            },
        };
        let user = staff::create(&c.db, &session.user.tenant, new, c.clock.now_secs()).await?;
        Ok::<_, Error>(NewPassword {
            email: user.email,
            password,
        })
    };
    match made.await {
        Ok(made) => shown(&c, session, Some(made)).await,
        Err(e) => refused(locale, e, TEAM_PHRASES),
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
}

/// A new password for someone, or removing them.
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
    match action.as_str() {
        "password" => {
            let email = match staff_admin::list(&c.db, tenant).await {
                Ok(people) => people.into_iter().find(|p| p.id == id).map(|p| p.email),
                Err(e) => return e.into_response(),
            };
            let Some(email) = email else {
                return problem(StatusCode::NOT_FOUND, locale, t.get("not_found"));
            };
            match staff_admin::reset_password(&c.db, tenant, &id, c.clock.now_secs()).await {
                Ok(password) => shown(&c, session, Some(NewPassword { email, password })).await,
                Err(e) => refused(locale, e, TEAM_PHRASES),
            }
        }
        "remove" => match staff_admin::remove(&c.db, tenant, &id).await {
            Ok(()) if id == session.user.id => see_other("/console/login"),
            Ok(()) => see_other("/console/staff"),
            Err(e) => refused(locale, e, TEAM_PHRASES),
        },
        _ => problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
    }
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    locale: String,
}

/// Anyone's own language: the console speaks it from the next page on.
pub async fn language(
    State(c): State<Console>,
    signed: Signed,
    Form(f): Form<LanguageForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let user = &signed.0.user;
    match staff_admin::set_locale(&c.db, user, &f.locale, c.clock.now_secs()).await {
        Ok(()) => see_other("/console/agenda"),
        Err(e) => refused(&user.locale, e, TEAM_PHRASES),
    }
}
