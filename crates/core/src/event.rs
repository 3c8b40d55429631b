//! Event types written to the outbox. Integrators subscribe to these names.

pub const BOOKING_CREATED: &str = "booking.created";
pub const BOOKING_UPDATED: &str = "booking.updated";
pub const BOOKING_CONFIRMED: &str = "booking.confirmed";
pub const BOOKING_CANCELED: &str = "booking.canceled";
pub const BOOKING_COMPLETED: &str = "booking.completed";
pub const BOOKING_NO_SHOW: &str = "booking.no_show";
pub const HOLD_CREATED: &str = "hold.created";
pub const HOLD_RELEASED: &str = "hold.released";
pub const HOLD_EXPIRED: &str = "hold.expired";
pub const CUSTOMER_CREATED: &str = "customer.created";
pub const CUSTOMER_UPDATED: &str = "customer.updated";
pub const CALENDAR_CREATED: &str = "calendar.created";
pub const CALENDAR_UPDATED: &str = "calendar.updated";
pub const SERVICE_CREATED: &str = "service.created";
pub const SERVICE_UPDATED: &str = "service.updated";
// Conversation events: the chat emits these; their names are fixed now.
pub const MESSAGE_RECEIVED: &str = "message.received";
pub const MESSAGE_SENT: &str = "message.sent";
pub const MESSAGE_STATUS: &str = "message.status";
pub const CONVERSATION_VARIABLES_CHANGED: &str = "conversation.variables_changed";
pub const CONVERSATION_HANDOFF: &str = "conversation.handoff";
