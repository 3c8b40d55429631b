//! WhatsApp Cloud API: a tenant's number (`store`) and Meta's webhooks for it (`inbound`).

pub mod inbound;
pub mod render;
pub mod store;
