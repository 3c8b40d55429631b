//! `turnero demo`: a demo clinic with three professionals in two time zones, their
//! services and a week of bookings, made through the same agenda rules as the API.

use jiff::{Timestamp, ToSpan};
use serde_json::Map;
use turnero_core::ids::{CalendarId, ServiceId};
use turnero_core::phone::E164;
use turnero_core::schedule::{Policy, ServiceTiming};

use crate::agenda::bookings::{self, CustomerRef, NewBooking};
use crate::agenda::calendars::{self, parse_weekly, parse_zone, CalendarDef, WeeklyRange};
use crate::agenda::customers::CustomerDef;
use crate::agenda::services::{self, ServiceDef};
use crate::agenda::staff;
use crate::agenda::tenants::{self, NewTenant};
use crate::config::Config;
use crate::db::Db;

const PATIENTS: [(&str, &str); 12] = [
    ("María González", "+54 9 11 4000-1001"),
    ("Juan Pérez", "+54 9 11 4000-1002"),
    ("Lucía Fernández", "+54 9 11 4000-1003"),
    ("Martín Rodríguez", "+54 9 351 400-1004"),
    ("Sofía López", "+54 9 261 400-1005"),
    ("Mateo Díaz", "+54 9 11 4000-1006"),
    ("Ana Souza", "+55 11 98000-1007"),
    ("Pedro Oliveira", "+55 11 98000-1008"),
    ("Beatriz Lima", "+55 21 98000-1009"),
    ("Carlos Ferreira", "+55 11 98000-1010"),
    ("Valentina Ruiz", "+54 9 11 4000-1011"),
    ("Tomás Castro", "+54 9 11 4000-1012"),
];

fn week(days: &[&str], ranges: &[(&str, &str)]) -> Vec<WeeklyRange> {
    days.iter()
        .flat_map(|d| {
            ranges.iter().map(|(s, e)| WeeklyRange {
                weekday: d.to_string(),
                start: s.to_string(),
                end: e.to_string(),
            })
        })
        .collect()
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, config.db_pool_size).await?;
    let now = Timestamp::now().as_second();
    let (tenant, key) = tenants::create(
        &db,
        NewTenant {
            name: "Clínica Demo".into(),
            timezone: "America/Argentina/Buenos_Aires".into(),
            phone_region: "AR".into(),
            locale: "es".into(),
        },
        now,
    )
    .await
    .map_err(err)?;
    let tid = turnero_core::ids::TenantId::from_trusted(tenant.id.clone());
    let weekdays = ["mon", "tue", "wed", "thu", "fri"];
    let pros = [
        (
            "Dra. Ana Pérez",
            "America/Argentina/Buenos_Aires",
            "Av. Corrientes 1234, CABA",
            week(&weekdays, &[("09:00", "13:00"), ("14:00", "18:00")]),
        ),
        (
            "Dr. Bruno Souza",
            "America/Sao_Paulo",
            "Rua Augusta 500, São Paulo",
            week(&weekdays, &[("08:00", "12:00"), ("13:00", "17:00")]),
        ),
        (
            "Lic. Carla Gómez",
            "America/Argentina/Buenos_Aires",
            "Av. Corrientes 1234, CABA",
            week(&["mon", "wed", "fri", "sat"], &[("10:00", "16:00")]),
        ),
    ];
    let mut cals = Vec::new();
    for (name, tz, location, hours) in pros {
        let cal = calendars::create(
            &db,
            &tid,
            CalendarDef {
                name: name.into(),
                kind: "professional".into(),
                zone: parse_zone(tz, "timezone").map_err(err)?,
                location: Some(location.into()),
                capacity: 1,
                weekly: parse_weekly(&hours).map_err(err)?,
                policy: Policy {
                    min_notice_minutes: 60,
                    cancel_cutoff_minutes: 120,
                    ..Policy::default()
                },
            },
            now,
        )
        .await
        .map_err(err)?;
        cals.push(CalendarId::from_trusted(cal.id));
    }
    let svc = |name: &str, minutes: u32, after: u32, on: Vec<CalendarId>| ServiceDef {
        name: name.into(),
        timing: ServiceTiming {
            duration_minutes: minutes,
            buffer_before_minutes: 0,
            buffer_after_minutes: after,
            slot_interval_minutes: minutes + after,
        },
        calendar_ids: on,
    };
    let consult = services::create(
        &db,
        &tid,
        svc("Consulta general", 30, 0, cals[..2].to_vec()),
        now,
    )
    .await
    .map_err(err)?;
    services::create(&db, &tid, svc("Control", 15, 0, cals[..2].to_vec()), now)
        .await
        .map_err(err)?;
    let physio = services::create(
        &db,
        &tid,
        svc("Kinesiología", 45, 15, vec![cals[2].clone()]),
        now,
    )
    .await
    .map_err(err)?;

    let mut made = 0;
    let tomorrow = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()?;
    for day in 0..7 {
        let date = tomorrow.checked_add(day.days())?;
        for (ci, cal) in cals.iter().enumerate() {
            let service = ServiceId::from_trusted(if ci == 2 {
                physio.id.clone()
            } else {
                consult.id.clone()
            });
            for hour in [10, 11, 15] {
                let (name, phone) = PATIENTS[(made + ci) % PATIENTS.len()];
                let start = date
                    .at(hour, 0, 0, 0)
                    .to_zoned(jiff::tz::TimeZone::UTC)?
                    .timestamp()
                    .as_second()
                    + 3 * 3600;
                let new = NewBooking {
                    calendar_id: cal.clone(),
                    service_id: service.clone(),
                    start,
                    customer: CustomerRef::Details(CustomerDef {
                        name: Some(name.into()),
                        phone: Some(E164::parse(phone, None)?),
                        ..CustomerDef::default()
                    }),
                    hold_id: None,
                    custom_fields: Map::new(),
                    notes: None,
                    source: "demo".into(),
                    external: None,
                };
                // Closed days and hours are simply skipped: the rules decide.
                if bookings::create(&db, &tid, new, None, now).await.is_ok() {
                    made += 1;
                }
            }
        }
    }
    // Emails are unique across the installation: each demo clinic gets its own admin.
    let suffix = &tenant.id[tenant.id.len() - 6..];
    let password = staff::generate_password();
    let admin = staff::create(
        &db,
        &tid,
        staff::NewStaff {
            email: format!("admin-{suffix}@demo.turnero.example"),
            password: password.clone(),
            role: staff::Role::Admin,
            locale: "es".into(),
            calendars: Vec::new(),
        },
        now,
    )
    .await
    .map_err(err)?;
    db.close().await;
    println!(
        "Demo clinic created: {} ({} calendars, 3 services, {made} bookings)",
        tenant.name,
        cals.len()
    );
    println!("tenant_id: {}", tenant.id);
    println!("api_key:   {key}");
    println!("Try: curl -H 'Authorization: Bearer {key}' http://127.0.0.1:8080/api/v1/bookings");
    println!(
        "Console: http://127.0.0.1:8080/console/login as {} with password {password}",
        admin.email
    );
    Ok(())
}

fn err(e: crate::error::Error) -> anyhow::Error {
    match e {
        crate::error::Error::Problem(p) => anyhow::anyhow!("{}: {}", p.code, p.detail),
        crate::error::Error::Internal(e) => e,
    }
}
