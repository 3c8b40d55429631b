//! `turnero bench console`: the staff console's week view (issue #17: 16 professionals
//! holding 800 bookings, server time p99 under 20 ms, any page under 100 KB before
//! compression). A signed-in admin's browser is stood in for by reqwest with the session
//! cookie; by default one client at a time, so the latency is the server's time for the page
//! plus a loopback round trip.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{hammer, next_monday_utc, setup, until};
use crate::agenda::staff::{self, NewStaff, Role};

const EMAIL: &str = "bench@console.example";
const PASSWORD: &str = "bench-console-password";

pub async fn run(
    seconds: u64,
    concurrency: usize,
    calendars: usize,
    bookings: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let s = setup(database_url).await?;
    let hours = json!(["mon", "tue", "wed", "thu", "fri", "sat"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "08:00", "end": "20:00"}))
        .collect::<Vec<_>>());
    let mut cals = Vec::new();
    for _ in 0..calendars.max(1) {
        cals.push(s.calendar_with_service(hours.clone(), 30).await?);
    }
    // Spread over next week, Monday to Saturday, 24 half hours a day per calendar.
    let monday = next_monday_utc();
    for i in 0..bookings {
        let (cal, svc) = &cals[i % cals.len()];
        let n = (i / cals.len()) as i64;
        let start = monday + (n % 6) * 86_400 + (8 + 3) * 3600 + (n / 6 % 24) * 1800;
        s.post(
            "/bookings",
            json!({"calendar_id": cal, "service_id": svc, "start": turnero_core::time::fmt_ts(start),
                "customer": {"name": format!("Paciente {i}"), "phone": format!("+54911{:08}", 50_000_000 + i)}}),
        )
        .await?;
    }
    let now = crate::clock::Clock::system().now_secs();
    let admin = NewStaff {
        email: EMAIL.into(),
        password: PASSWORD.into(),
        role: Role::Admin,
        locale: "es".into(),
        calendars: Vec::new(),
    };
    staff::create(&s.db, &s.tenant, admin, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let cookie = sign_in(&s.base).await?;

    let date = jiff::Timestamp::from_second(monday + 12 * 3600)?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let client = reqwest::Client::new();
    let css = client
        .get(format!("{}/console/console.css", s.base))
        .send()
        .await?
        .bytes()
        .await?;
    println!(
        "console: {} calendars, {bookings} bookings in the week of {date}; {concurrency} client(s), {seconds}s per page; stylesheet {} bytes (cached an hour)",
        cals.len(),
        css.len()
    );
    for view in ["week", "day"] {
        let url = format!("{}/console/agenda?date={date}&view={view}", s.base);
        let first = client.get(&url).header("cookie", &cookie).send().await?;
        anyhow::ensure!(first.status().is_success(), "{url}: {}", first.status());
        let page = first.text().await?;
        // A booking is a line with its status for screen readers in the week, a line with
        // its buttons on a day.
        let marker = if view == "week" {
            "<span class=\"sr\">"
        } else {
            "<li class=\"booking "
        };
        let shown = page.matches(marker).count();
        if view == "week" {
            anyhow::ensure!(
                shown == bookings,
                "the week shows {shown} of {bookings} bookings"
            );
        }
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        let mut report = hammer(
            concurrency,
            until(deadline, move || {
                let req = client.get(&url).header("cookie", &cookie).send();
                async move {
                    match req.await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    }
                }
            }),
        )
        .await;
        report.print(view);
        println!(
            "{view:<10} page {} bytes, {shown} bookings shown",
            page.len()
        );
    }
    Ok(())
}

/// Signs the bench's admin in as a browser would; answers the `Cookie` header to send.
async fn sign_in(base: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = client.get(format!("{base}/console/login")).send().await?;
    let login_cookie = cookie_of(&form, "turnero_login")?;
    let page = form.text().await?;
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).map(|i| i + marker.len());
    let csrf = at
        .and_then(|i| page[i..].find('"').map(|j| page[i..i + j].to_string()))
        .ok_or_else(|| anyhow::anyhow!("no CSRF field on the sign-in page"))?;
    let signed = client
        .post(format!("{base}/console/login"))
        .header("cookie", format!("turnero_login={login_cookie}"))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await?;
    anyhow::ensure!(
        signed.status().is_redirection(),
        "sign-in: {}",
        signed.status()
    );
    Ok(format!(
        "turnero_session={}",
        cookie_of(&signed, "turnero_session")?
    ))
}

fn cookie_of(r: &reqwest::Response, name: &str) -> anyhow::Result<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|v| v.split(';').next().unwrap_or("").to_string())
        })
        .ok_or_else(|| anyhow::anyhow!("no {name} cookie"))
}
