//! The bot on two `turnero serve` processes sharing one PostgreSQL database, with one
//! person's messages landing on both at once: one message is one turn, so nobody is booked
//! twice and nobody is told their slot was taken while it is booked for them.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

use crate::common::{fresh_database, Backend};
use crate::graph::{GraphApi, ACCESS_TOKEN, PHONE_NUMBER_ID};
use crate::patient::{body_text, button_ids, inbound, post_signed, row_ids, APP_SECRET};
use crate::processes::{serve_with, tenant_create};

const PEOPLE: usize = 20;

fn wa_id(person: usize) -> String {
    format!("5511987650{person:03}")
}

/// Everything said is answered and everything answered is sent.
async fn settle(db: &sqlx::AnyPool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM chat_inbox WHERE done_at IS NULL) + \
             (SELECT COUNT(*) FROM chat_outbox WHERE status = 'queued')",
        )
        .fetch_one(db)
        .await
        .unwrap();
        if row.get::<i64, _>(0) == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the bot did not answer in 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the bot sent this person, oldest first.
fn said_to(graph: &GraphApi, person: usize) -> Vec<Value> {
    let to = wa_id(person);
    graph
        .bodies()
        .into_iter()
        .filter(|b| b["to"] == to.as_str())
        .collect()
}

struct Clinic {
    hooks: [String; 2],
    sent: Vec<usize>,
}

impl Clinic {
    /// A text (or, with `reply`, a tapped button or list row) from `person` to process `to`.
    fn message(&mut self, person: usize, text: &str, reply: Option<(&str, &str)>) -> Vec<u8> {
        self.sent[person] += 1;
        let id = self.sent[person];
        match reply {
            None => inbound(
                "whatsapp_inbound_text.json",
                &wa_id(person),
                id,
                json!({"type": "text", "text": {"body": text}}),
            ),
            Some(("button", id_)) => inbound(
                "whatsapp_inbound_button_reply.json",
                &wa_id(person),
                id,
                json!({"interactive": {"type": "button_reply",
                    "button_reply": {"id": id_, "title": text}}}),
            ),
            Some((_, id_)) => inbound(
                "whatsapp_inbound_list_reply.json",
                &wa_id(person),
                id,
                json!({"interactive": {"type": "list_reply",
                    "list_reply": {"id": id_, "title": text}}}),
            ),
        }
    }
}

async fn post(hook: String, body: Vec<u8>) {
    post_signed(&hook, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_answer_each_message_once_so_nobody_is_booked_twice() {
    let (url, _schema, _) = fresh_database(Backend::Postgres).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let servers = [serve_with(&url, &[]), serve_with(&url, &[])];
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    let graph = GraphApi::start().await;
    let client = reqwest::Client::new();
    let api = |i: usize, method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{}/api/v1{path}", servers[i].1))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let all_day: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "24:00"}))
        .collect();
    let cal: Value = api(
        0,
        reqwest::Method::POST,
        "/calendars",
        json!({"name": "Dra. Souza",
        "timezone": "America/Sao_Paulo", "capacity": 3, "weekly_hours": all_day}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let svc = api(
        1,
        reqwest::Method::POST,
        "/services",
        json!({"name": "Consulta", "duration_minutes": 30, "calendar_ids": [cal["id"]]}),
    )
    .await
    .unwrap();
    assert_eq!(svc.status(), StatusCode::CREATED);
    let channel: Value = api(
        0,
        reqwest::Method::PUT,
        "/channels/whatsapp",
        json!({
        "phone_number_id": PHONE_NUMBER_ID, "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET, "verify_token": "verify-me", "graph_api_url": graph.base}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let hook = channel["webhook_url"].as_str().unwrap().to_string();
    let path = hook
        .strip_prefix(&servers[0].1)
        .expect("the hook is on the server asked");
    let mut clinic = Clinic {
        hooks: [hook.clone(), format!("{}{path}", servers[1].1)],
        sent: vec![0; PEOPLE],
    };

    // Everyone walks to the confirmation question, half on each process, all at once;
    // person i takes the i-th slot of eight, so no slot is asked for more than its capacity.
    let say_all = |clinic: &mut Clinic,
                   what: &dyn Fn(usize) -> (String, Option<(String, String)>)| {
        let posts: Vec<_> = (0..PEOPLE)
            .map(|p| {
                let (text, reply) = what(p);
                let reply = reply.as_ref().map(|(k, id)| (k.as_str(), id.as_str()));
                let body = clinic.message(p, &text, reply);
                post(clinic.hooks[p % 2].clone(), body)
            })
            .collect();
        join_all(posts)
    };
    say_all(&mut clinic, &|_| ("hola".into(), None)).await;
    settle(&db).await;
    for p in 0..PEOPLE {
        let menu = said_to(&graph, p);
        assert_eq!(button_ids(menu.last().unwrap())[0], "book", "{menu:?}");
    }
    say_all(&mut clinic, &|_| {
        ("Reservar".into(), Some(("button".into(), "book".into())))
    })
    .await;
    settle(&db).await;
    let picks: Vec<String> = (0..PEOPLE)
        .map(|p| {
            let said = said_to(&graph, p);
            let rows = row_ids(said.last().unwrap());
            assert!(rows.len() > 8, "eight slots and 'later': {rows:?}");
            rows[p % 8].clone()
        })
        .collect();
    say_all(&mut clinic, &|p| {
        ("x".into(), Some(("list".into(), picks[p].clone())))
    })
    .await;
    settle(&db).await;
    say_all(&mut clinic, &|p| {
        let surname = char::from(b'a' + p as u8);
        (format!("Ana Silva{surname}"), None)
    })
    .await;
    settle(&db).await;
    for p in 0..PEOPLE {
        let said = said_to(&graph, p);
        let confirm = said.last().unwrap();
        assert_eq!(button_ids(confirm), ["yes", "no"], "{said:?}");
    }
    let before: Vec<usize> = (0..PEOPLE).map(|p| said_to(&graph, p).len()).collect();

    // The race: half say "si" on one process and "gracias" on the other at the same time;
    // half tap "Sí" twice, each tap reaching a different process.
    let mut posts = Vec::new();
    for p in 0..PEOPLE {
        let (first, second) = if p < PEOPLE / 2 {
            (
                clinic.message(p, "si", None),
                clinic.message(p, "gracias", None),
            )
        } else {
            (
                clinic.message(p, "Sí", Some(("button", "yes"))),
                clinic.message(p, "Sí", Some(("button", "yes"))),
            )
        };
        posts.push(post(clinic.hooks[0].clone(), first));
        posts.push(post(clinic.hooks[1].clone(), second));
    }
    join_all(posts).await;
    settle(&db).await;

    let taken = "Ese horario se acaba de ocupar";
    let mut problems = Vec::new();
    for (p, seen) in before.iter().enumerate() {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM bookings b JOIN customers c ON c.id = b.customer_id \
             WHERE c.phone = $1 AND b.status = 'pending'",
        )
        .bind(format!("+{}", wa_id(p)))
        .fetch_one(&db)
        .await
        .unwrap();
        let booked: i64 = row.get(0);
        let after = &said_to(&graph, p)[*seen..];
        let told_taken = after.iter().any(|m| body_text(m).contains(taken));
        let told_done = after.iter().any(|m| body_text(m).starts_with("¡Listo!"));
        if booked != 1 || told_taken || !told_done {
            let texts: Vec<String> = after.iter().map(body_text).collect();
            problems.push(format!("person {p}: {booked} bookings, told {texts:?}"));
        }
    }
    assert_eq!(
        problems,
        Vec::<String>::new(),
        "one booking each, and told so"
    );
    assert_eq!(graph.problems(), Vec::<String>::new());
}
