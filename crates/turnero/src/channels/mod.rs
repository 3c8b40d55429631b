//! Chat channels: each verifies and de-duplicates what its vendor sends, turns it into
//! `message.*` events and messages for the bot (`crate::chat`), and shapes the bot's outputs
//! within its own limits. WhatsApp Cloud API (`whatsapp`) and the web chat served by turnero
//! (`webchat`).

pub mod webchat;
pub mod whatsapp;
