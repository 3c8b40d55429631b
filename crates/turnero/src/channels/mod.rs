//! Chat channels. So far: WhatsApp Cloud API inbound (verified, de-duplicated, turned into
//! `message.*` events for the webhook hub). The flow engine that answers is issue #5's next
//! step.

pub mod webchat;
pub mod whatsapp;
