//! Black-box tests over HTTP against a real server and real databases (SQLite and
//! PostgreSQL). One test binary, so the suite links once.

mod common;

mod api_keys;
mod asisteclick;
mod asisteclick_cache;
mod asisteclick_real_clock;
mod availability_api;
mod backup;
mod bad_input;
mod bookings;
mod bot_api;
mod bot_processes;
mod calendars;
mod chatwoot_api;
mod chatwoot_chat;
mod chatwoot_person;
mod chatwoot_sync;
mod concurrency;
mod customers;
mod delivery_locks;
mod delivery_processes;
mod erasure;
mod flows;
mod graph;
mod hardening;
mod isolation;
mod openapi_ranges;
mod patient;
mod personas;
mod processes;
mod readme;
mod receiver;
mod reminder_changes;
mod reminder_mail;
mod reminders;
mod retention;
mod smtp;
mod system;
mod telegram_chat;
mod telegram_person;
mod webchat;
mod webhook_delivery;
mod webhooks;
mod whatsapp;
mod whatsapp_chat;
