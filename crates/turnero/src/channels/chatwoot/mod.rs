//! Chatwoot: the clinic's own inbox, with the booking bot answering in it as an agent bot
//! (`../shared/reference/channels.md` §1.5, "mode A": Chatwoot owns the customer channels).
//! The account (`store`), its API (`client`), its webhooks (`inbound`), the bot's outputs as
//! Chatwoot messages (`render`, `send`), and the customer as Chatwoot's agents see them
//! (`contacts`), kept current as bookings change (`follow`) and copied over in bulk (`sync`).

pub mod client;
pub mod contacts;
pub mod follow;
pub mod inbound;
pub mod jobs;
pub mod outreach;
pub mod render;
pub mod send;
pub mod store;
pub mod sync;
