//! Telegram: a tenant's bot (`store`), registered with the Bot API (`bot_api`), its updates
//! (`inbound`), and the bot's replies rendered as keyboards within Telegram's limits
//! (`render`) and sent (`send`).

pub mod bot_api;
pub mod inbound;
pub mod render;
pub mod send;
pub mod store;
