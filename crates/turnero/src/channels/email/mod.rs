//! Mail: a tenant's SMTP server (`store`), and the sender that turns reminders and
//! confirmations (`Output::Mail`, with its `.ics`) into messages sent with lettre (`send`).
//! Nobody writes in on this channel: answers come back through the mail's signed links.

pub mod send;
pub mod store;
