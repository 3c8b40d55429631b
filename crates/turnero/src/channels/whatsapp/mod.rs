//! WhatsApp Cloud API: a tenant's number (`store`), Meta's webhooks for it (`inbound`), and
//! the bot's replies rendered within WhatsApp's limits (`render`) and sent (`send`).

pub mod inbound;
pub mod render;
pub mod send;
pub mod store;
