//! turnero: the service. Configuration, storage, the HTTP API, background jobs and the CLI.
//! `main.rs` only parses arguments and calls [`cli::run`]; tests start the same [`app`].

pub mod agenda;
pub mod api;
pub mod app;
pub mod asisteclick;
pub mod bench;
pub mod channels;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod notifications;
pub mod outbound;
pub mod secrets;
pub mod webhooks;
