//! The booking bot on Telegram, end to end: updates shaped like the recorded fixtures go to
//! the webhook turnero registered (with its secret token), the flow runs against the real
//! database, and every call reaches a Bot API stand-in that checks it against the
//! documented shape and limits.

use serde_json::json;

use crate::common::TestApp;
use crate::telegram_person::*;

/// Tuesday 2030-01-08 10:00 in Buenos Aires.
const TUESDAY_10: i64 = 1_894_107_600;

async fn a_patient_books_by_tapping_and_proves_their_number_by_sharing_their_contact(
    app: &TestApp,
) {
    let (cal, _svc) = app.clinic().await;
    let mut p = TgPerson::new(app).await;
    let menu = p.says("/start").await;
    assert_eq!(callback_datas(&menu[0]), ["book", "mine", "agent"]);
    let list = p.taps("book").await;
    let slots = callback_datas(&list[0]);
    assert_eq!(&slots[8..], ["later", "other_day"]);
    assert!(slots[0].starts_with(&format!("slot:{cal}:")), "{slots:?}");
    assert_eq!(
        list[0]["reply_markup"]["inline_keyboard"][0][0]["text"], "lun 07/01 · 09:00",
        "a keyboard has no headings: each slot names its day"
    );
    let phone_q = p.taps(&slots[1]).await;
    assert_eq!(
        phone_q[0]["reply_markup"]["keyboard"][0][0]["request_contact"], true,
        "Telegram never tells the phone: the bot offers to share it"
    );
    let name_q = p.shares_contact("5511987654321", Some(CHAT_ID)).await;
    assert!(
        text(&name_q[0]).starts_with("¿A nombre de quién"),
        "the name on file is not told to whoever types the number: {name_q:?}"
    );
    assert_eq!(name_q[0]["reply_markup"]["remove_keyboard"], true);
    let confirm = p.says("Maria Silva").await;
    assert_eq!(callback_datas(&confirm[0]), ["yes", "no"]);
    let yes = p.tap_update("yes");
    let done = p.deliver(yes.clone()).await;
    assert!(text(&done[0]).starts_with("¡Listo!"), "{done:?}");
    assert_eq!(
        p.update_id - 839201200,
        6,
        "six messages: one more than WhatsApp, the phone"
    );
    let again = p.deliver(yes).await;
    assert!(
        again.is_empty(),
        "a redelivered tap is answered once: {again:?}"
    );

    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM bookings b JOIN customers c ON c.id = b.customer_id \
             WHERE b.status = 'pending' AND b.source = 'telegram' AND c.phone = '+5511987654321' \
             AND c.name = 'Maria Silva' AND c.external_ids LIKE '%\"telegram\":\"6123456789\"%'"
        )
        .await,
        1,
        "booked for the proven number, the chat kept on the customer"
    );
    // Every tap is acknowledged (no spinner left) and its keyboard turned into the choice,
    // the redelivered tap too (its first acknowledgement may have been lost).
    let acks = p.api.wait_for("answerCallbackQuery", 4, 5).await;
    assert!(acks.iter().all(|a| a["callback_query_id"].is_string()));
    let edits = p.api.wait_for("editMessageText", 3, 5).await;
    assert_eq!(edits[0]["reply_markup"], json!({"inline_keyboard": []}));
    assert!(
        text(&edits[0]).ends_with("✅ Sacar un turno"),
        "{}",
        edits[0]
    );
    assert_eq!(edits[0]["chat_id"], CHAT_ID);
    assert_eq!(
        edits[0]["message_id"],
        p.api.sent()[0].0,
        "the menu's own message is the one edited"
    );
    assert_eq!(p.api.problems(), Vec::<String>::new());

    let (_, received) = app
        .get("/api/v1/events?type=message.received&limit=100")
        .await;
    let received = received["data"].as_array().unwrap();
    assert_eq!(received.len(), 6);
    assert!(received
        .iter()
        .all(|e| e["data"]["channel"] == "telegram" && e["data"]["contact_id"] == "6123456789"));
    let shared = received
        .iter()
        .find(|e| e["data"]["message"]["kind"] == "contact")
        .unwrap();
    assert_eq!(shared["data"]["message"]["text"], "+5511987654321");
    let (_, sent) = app.get("/api/v1/events?type=message.sent&limit=100").await;
    assert_eq!(
        sent["data"].as_array().unwrap().len(),
        p.api.bodies("sendMessage").len()
    );
}

async fn a_patient_books_by_typing_only_and_a_typed_number_unlocks_nothing(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    // The number typed below belongs to a customer on file.
    let (status, b) = app
        .book(&cal, &svc, "2030-01-09T12:00:00Z", "+5491155550001")
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{b}");
    let mut p = TgPerson::new(app).await;
    let list = p.says("quiero turno mañana a las 10").await;
    let slots = callback_datas(list.last().unwrap());
    let ten = slots
        .iter()
        .position(|s| s.split(':').nth(2) == Some(&TUESDAY_10.to_string()))
        .unwrap_or_else(|| panic!("Tuesday 10:00 is offered: {slots:?}"));
    // The option's number, typed.
    p.says(&(ten + 1).to_string()).await;
    let name_q = p.says("+54 9 11 5555-0001").await;
    assert!(
        text(&name_q[0]).starts_with("¿A nombre de quién"),
        "the name on file is not told to whoever types the number: {name_q:?}"
    );
    p.says("María Gómez").await;
    let done = p.says("dale").await;
    assert!(text(&done[0]).starts_with("¡Listo!"), "{done:?}");
    assert_eq!(p.update_id - 839201200, 5, "five typed messages");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM bookings b JOIN customers c ON c.id = b.customer_id \
             WHERE b.source = 'telegram' AND b.start_at = {TUESDAY_10} \
             AND c.phone = '+5491155550001' AND c.external_ids NOT LIKE '%telegram%'"
        ))
        .await,
        1,
        "a typed number is the booking's phone, not a proof: the chat is not kept on it"
    );
    assert_eq!(p.api.problems(), Vec::<String>::new());
}

async fn someone_elses_contact_proves_nothing_and_ones_own_unlocks_their_bookings(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, b) = app
        .book(&cal, &svc, "2030-01-09T12:00:00Z", "+5491155554444")
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{b}");
    let booking = b["id"].as_str().unwrap().to_string();

    // Someone who has that number's contact card in their phone.
    let mut stranger = TgPerson::new(app).await;
    stranger.says("/start").await;
    let asked = stranger.taps("mine").await;
    assert_eq!(
        asked[0]["reply_markup"]["keyboard"][0][0]["request_contact"],
        true
    );
    let mine = stranger.shares_contact("+5491155554444", Some(42)).await;
    let said: String = mine.iter().map(|m| text(m).to_string()).collect();
    assert!(
        !said.contains("Consulta"),
        "nothing of that customer: {said}"
    );
    assert!(mine.iter().all(|m| !callback_datas(m).contains(&booking)));

    // The number's owner shares their own contact.
    let mut owner = stranger.another(5_000_000_123);
    owner.says("/start").await;
    owner.taps("mine").await;
    let theirs = owner
        .shares_contact("5491155554444", Some(5_000_000_123))
        .await;
    let all: Vec<String> = theirs.iter().flat_map(callback_datas).collect();
    let said: String = theirs.iter().map(|m| text(m).to_string()).collect();
    assert!(
        all.iter().any(|d| d.contains(&booking)) || said.contains("Consulta"),
        "their booking is theirs to see: {theirs:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE proven_phone = '+5491155554444'")
            .await,
        1,
        "only the owner's conversation holds the proven number"
    );
}

async fn a_person_asks_for_a_human_and_staff_answer_through_the_conversations_api(app: &TestApp) {
    app.clinic().await;
    let mut p = TgPerson::new(app).await;
    p.says("/start").await;
    let handed = p.taps("agent").await;
    assert!(
        text(&handed[0]).contains("persona del equipo"),
        "{handed:?}"
    );
    let (_, events) = app.get("/api/v1/events?type=conversation.handoff").await;
    let data = &events["data"][0]["data"];
    assert_eq!(data["channel"], "telegram");
    assert_eq!(data["contact_id"], "6123456789");
    let id = data["conversation_id"].as_str().unwrap();
    let before = p.api.bodies("sendMessage").len();
    let (status, out) = app
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            json!({"text": "Hola María, soy Ana de recepción."}),
        )
        .await;
    assert!(status.is_success(), "{status} {out}");
    let sent = p.api.wait_for("sendMessage", before + 1, 5).await;
    assert_eq!(text(&sent[before]), "Hola María, soy Ana de recepción.");
    assert_eq!(sent[before]["chat_id"], CHAT_ID);
    assert_eq!(p.api.problems(), Vec::<String>::new());
}

async fn an_update_without_the_secret_token_is_refused_and_a_redelivery_is_answered_once(
    app: &TestApp,
) {
    app.clinic().await;
    let mut p = TgPerson::new(app).await;
    let update = p.message(json!({"text": "hola"}));
    for secret in [None, Some("not-the-secret"), Some("")] {
        let status = p.post_with(&update, secret).await;
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{secret:?}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type LIKE 'message.%'")
            .await,
        0,
        "no effect"
    );
    let first = p.deliver(update.clone()).await;
    assert_eq!(first.len(), 1);
    let again = p.deliver(update).await;
    assert!(again.is_empty(), "Telegram's redelivery: {again:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'message.received'")
            .await,
        1
    );
}

/// Waits until `sql` counts at least `n`.
async fn until(app: &TestApp, sql: &str, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.count(sql).await < n {
        assert!(std::time::Instant::now() < deadline, "never: {sql}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn replies_wait_out_an_outage_and_telegrams_retry_after_then_go_in_order(app: &TestApp) {
    app.clinic().await;
    let mut p = TgPerson::new(app).await;
    p.api.fail_sends(Some((502, "Bad Gateway", None)));
    let hello = p.message(json!({"text": "hola"}));
    p.post(&hello).await;
    until(
        app,
        "SELECT COUNT(*) FROM chat_outbox WHERE error LIKE '502%'",
        1,
    )
    .await;
    let book = p.message(json!({"text": "1"}));
    p.post(&book).await;
    until(
        app,
        "SELECT COUNT(*) FROM chat_outbox WHERE status = 'queued'",
        2,
    )
    .await;
    // Telegram is back but asks for 7 seconds.
    p.api
        .fail_sends(Some((429, "Too Many Requests: retry after 7", Some(7))));
    app.advance_to("2030-01-07T12:01:00Z");
    app.server.chat.sweep_once().await.unwrap();
    until(
        app,
        "SELECT COUNT(*) FROM chat_outbox WHERE error LIKE '429%'",
        1,
    )
    .await;
    p.api.fail_sends(None);
    let tried = p.api.bodies("sendMessage").len();
    app.advance_to("2030-01-07T12:01:04Z");
    app.server.chat.sweep_once().await.unwrap();
    assert_eq!(
        p.api.bodies("sendMessage").len(),
        tried,
        "not before retry_after"
    );
    app.advance_to("2030-01-07T12:01:08Z");
    app.server.chat.sweep_once().await.unwrap();
    crate::patient::settle(app).await;
    let sent = p.api.bodies("sendMessage");
    let delivered = &sent[tried..];
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    assert_eq!(callback_datas(&delivered[0]), ["book", "mine", "agent"]);
    assert!(
        callback_datas(&delivered[1])[0].starts_with("slot:"),
        "the menu, then the slots: in order"
    );
}

async fn a_person_who_blocked_the_bot_gets_nothing_more_until_they_write_again(app: &TestApp) {
    app.clinic().await;
    let mut p = TgPerson::new(app).await;
    p.api
        .fail_sends(Some((403, "Forbidden: bot was blocked by the user", None)));
    let hello = p.message(json!({"text": "hola"}));
    p.post(&hello).await;
    until(
        app,
        "SELECT COUNT(*) FROM chat_outbox WHERE status = 'failed'",
        1,
    )
    .await;
    let (_, channel) = app.get("/api/v1/channels/telegram").await;
    assert_eq!(channel["blocked_chats"], 1);
    let tried = p.api.bodies("sendMessage").len();
    let id: String = {
        let (_, list) = app.get("/api/v1/conversations").await;
        list["data"][0]["id"].as_str().unwrap().to_string()
    };
    app.post(
        &format!("/api/v1/conversations/{id}/messages"),
        json!({"text": "¿Seguís ahí?"}),
    )
    .await;
    until(
        app,
        "SELECT COUNT(*) FROM chat_outbox WHERE status = 'failed'",
        2,
    )
    .await;
    assert_eq!(
        p.api.bodies("sendMessage").len(),
        tried,
        "nothing is sent to a chat that blocked the bot"
    );
    p.api.fail_sends(None);
    let back = p.says("hola").await;
    assert_eq!(back.len(), 1, "writing again unblocks: {back:?}");
    let (_, channel) = app.get("/api/v1/channels/telegram").await;
    assert_eq!(channel["blocked_chats"], 0);
}

async fn connecting_checks_the_token_with_telegram_and_keeps_nothing_it_refuses(app: &TestApp) {
    let api = crate::bot_api::BotApi::start().await;
    let put = |token: &str| {
        let body = json!({"bot_token": token, "api_url": api.base});
        app.call(
            reqwest::Method::PUT,
            "/api/v1/channels/telegram",
            Some(body),
        )
    };
    let (status, problem) = put("not-a-token").await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_field", "{problem}");
    api.refuse_token(true);
    let (status, problem) = put(crate::bot_api::BOT_TOKEN).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "telegram_refused", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("Unauthorized"));
    assert_eq!(api.webhook(), None, "no webhook set for a refused token");
    let (status, _) = app.get("/api/v1/channels/telegram").await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "nothing kept");

    api.refuse_token(false);
    let out = connect(app, &api).await;
    let (url, _) = api.webhook().unwrap();
    assert_eq!(out["webhook_url"], url.as_str());
    assert!(url.contains("/channels/telegram/") && url.ends_with("/webhook"));
    assert_eq!(out["bot_username"], "clinica_test_bot");
    assert_eq!(out["webhook"]["url"], url.as_str());
    assert_eq!(out["webhook"]["pending_update_count"], 0);
    assert!(
        !out.to_string().contains(crate::bot_api::BOT_TOKEN),
        "write-only"
    );
    let set = api.bodies("setWebhook");
    assert_eq!(
        set[0]["allowed_updates"],
        json!(["message", "callback_query"])
    );

    // Connecting again keeps the URL and replaces the secret.
    let again = connect(app, &api).await;
    assert_eq!(again["webhook_url"], out["webhook_url"]);
    assert_ne!(
        api.bodies("setWebhook")[1]["secret_token"],
        set[0]["secret_token"]
    );

    let (status, _) = app
        .call(reqwest::Method::DELETE, "/api/v1/channels/telegram", None)
        .await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(api.bodies("deleteWebhook").len(), 1);
    let status = reqwest::Client::new()
        .post(&url)
        .header("x-telegram-bot-api-secret-token", "x")
        .json(&json!({"update_id": 1}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(api.problems(), Vec::<String>::new());
}

async fn each_tenant_hears_only_its_own_bot_and_a_bot_serves_one_tenant(app: &TestApp) {
    app.clinic().await;
    let other_key = app.new_tenant("Otra clínica").await;
    let mut a = TgPerson::new(app).await;
    let b = TgPerson::new_as(app, &other_key, "7099999999:BBH4x9Lr2QpT_vW8-zKq1mNbCdEf").await;
    // The same bot for the other tenant: refused, so it cannot take the first one's patients.
    let (status, problem) = app
        .call_as(
            &other_key,
            reqwest::Method::PUT,
            "/api/v1/channels/telegram",
            Some(json!({"bot_token": crate::bot_api::BOT_TOKEN, "api_url": a.api.base})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "bot_in_use");
    // The other tenant's secret does not open this tenant's webhook.
    let update = a.message(json!({"text": "hola"}));
    assert_eq!(
        a.post_with(&update, Some(&b.secret)).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    // The same update_id from two bots is two messages.
    let mut b_update = update.clone();
    b_update["message"]["chat"]["id"] = json!(777);
    b_update["message"]["from"]["id"] = json!(777);
    b.post(&b_update).await;
    let replies = a.deliver(update).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    crate::patient::settle(app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'message.received'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT tenant_id) FROM conversations WHERE channel = 'telegram'")
            .await,
        2
    );
}

async fn an_option_id_longer_than_telegram_allows_still_comes_back_whole(app: &TestApp) {
    app.clinic().await;
    let (_, mut flow) = app.get("/api/v1/flows/main").await;
    let long = format!("book_{}", "x".repeat(70));
    let options = flow["steps"]["menu"]["options"].as_array_mut().unwrap();
    assert_eq!(options[0]["id"], "book", "{options:?}");
    options[0]["id"] = json!(long);
    let (status, out) = app
        .call(reqwest::Method::PUT, "/api/v1/flows/main", Some(flow))
        .await;
    assert!(status.is_success(), "{status} {out}");
    let mut p = TgPerson::new(app).await;
    let menu = p.says("hola").await;
    let data = callback_datas(&menu[0])[0].clone();
    assert!(data.starts_with('#') && data.len() <= 64, "{data}");
    let list = p.taps(&data).await;
    assert!(
        callback_datas(&list[0])[0].starts_with("slot:"),
        "the digest led to the long option: {list:?}"
    );
    assert_eq!(p.api.problems(), Vec::<String>::new());
}

crate::on_both_backends!(
    each_tenant_hears_only_its_own_bot_and_a_bot_serves_one_tenant,
    an_option_id_longer_than_telegram_allows_still_comes_back_whole,
    a_patient_books_by_tapping_and_proves_their_number_by_sharing_their_contact,
    a_patient_books_by_typing_only_and_a_typed_number_unlocks_nothing,
    someone_elses_contact_proves_nothing_and_ones_own_unlocks_their_bookings,
    a_person_asks_for_a_human_and_staff_answer_through_the_conversations_api,
    an_update_without_the_secret_token_is_refused_and_a_redelivery_is_answered_once,
    replies_wait_out_an_outage_and_telegrams_retry_after_then_go_in_order,
    a_person_who_blocked_the_bot_gets_nothing_more_until_they_write_again,
    connecting_checks_the_token_with_telegram_and_keeps_nothing_it_refuses,
);

async fn the_webhook_registered_with_telegram_is_at_the_configured_public_url(
    backend: crate::common::Backend,
) {
    let app = TestApp::start_with(backend, |c| {
        c.public_url = Some("https://turnos.example.com/".into());
    })
    .await;
    let api = crate::bot_api::BotApi::start().await;
    let out = connect(&app, &api).await;
    let (url, _) = api.webhook().unwrap();
    assert!(
        url.starts_with("https://turnos.example.com/channels/telegram/"),
        "{url}"
    );
    assert_eq!(out["webhook_url"], url.as_str());
    app.finish().await;
}

crate::with_each_backend!(the_webhook_registered_with_telegram_is_at_the_configured_public_url);
