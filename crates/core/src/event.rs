//! Event types written to the outbox. Integrators subscribe to these names.

pub const BOOKING_CREATED: &str = "booking.created";
pub const BOOKING_UPDATED: &str = "booking.updated";
pub const BOOKING_CONFIRMED: &str = "booking.confirmed";
pub const BOOKING_CANCELED: &str = "booking.canceled";
pub const BOOKING_COMPLETED: &str = "booking.completed";
pub const BOOKING_NO_SHOW: &str = "booking.no_show";
/// A booking another system made that could not be kept (AsisteClick's bot booked a time
/// taken meanwhile): the clinic should call the patient.
pub const BOOKING_CONFLICT: &str = "booking.conflict";
pub const HOLD_CREATED: &str = "hold.created";
pub const HOLD_RELEASED: &str = "hold.released";
pub const HOLD_EXPIRED: &str = "hold.expired";
pub const CUSTOMER_CREATED: &str = "customer.created";
pub const CUSTOMER_UPDATED: &str = "customer.updated";
/// The person asked to be forgotten: their personal data is gone (only the id is left).
pub const CUSTOMER_ERASED: &str = "customer.erased";
pub const CALENDAR_CREATED: &str = "calendar.created";
pub const CALENDAR_UPDATED: &str = "calendar.updated";
/// Deleted while holding bookings: kept for them, offered no more.
pub const CALENDAR_ARCHIVED: &str = "calendar.archived";
pub const CALENDAR_DELETED: &str = "calendar.deleted";
pub const SERVICE_CREATED: &str = "service.created";
pub const SERVICE_UPDATED: &str = "service.updated";
pub const SERVICE_ARCHIVED: &str = "service.archived";
pub const SERVICE_DELETED: &str = "service.deleted";
// Conversation events: the chat emits these; their names are fixed now.
pub const MESSAGE_RECEIVED: &str = "message.received";
pub const MESSAGE_SENT: &str = "message.sent";
pub const MESSAGE_STATUS: &str = "message.status";
pub const CONVERSATION_VARIABLES_CHANGED: &str = "conversation.variables_changed";
pub const CONVERSATION_HANDOFF: &str = "conversation.handoff";
/// A customer's details written to their contact in a chat platform (Chatwoot).
pub const CONTACT_SYNCED: &str = "contact.synced";
/// Reminders and confirmation campaigns: a message handed to its channel and accepted, one
/// that could not be sent (or was missed), and the person's answer to a confirmation.
pub const NOTIFICATION_SENT: &str = "notification.sent";
pub const NOTIFICATION_FAILED: &str = "notification.failed";
pub const NOTIFICATION_ANSWERED: &str = "notification.answered";
/// Sent only by `POST /webhooks/{id}/test`; never stored in the outbox.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// Every type a subscription may name (the test event is always allowed).
pub const ALL: &[&str] = &[
    BOOKING_CREATED,
    BOOKING_UPDATED,
    BOOKING_CONFIRMED,
    BOOKING_CANCELED,
    BOOKING_COMPLETED,
    BOOKING_NO_SHOW,
    BOOKING_CONFLICT,
    HOLD_CREATED,
    HOLD_RELEASED,
    HOLD_EXPIRED,
    CUSTOMER_CREATED,
    CUSTOMER_UPDATED,
    CUSTOMER_ERASED,
    CALENDAR_CREATED,
    CALENDAR_UPDATED,
    CALENDAR_ARCHIVED,
    CALENDAR_DELETED,
    SERVICE_CREATED,
    SERVICE_UPDATED,
    SERVICE_ARCHIVED,
    SERVICE_DELETED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_STATUS,
    CONVERSATION_VARIABLES_CHANGED,
    CONVERSATION_HANDOFF,
    CONTACT_SYNCED,
    NOTIFICATION_SENT,
    NOTIFICATION_FAILED,
    NOTIFICATION_ANSWERED,
];

/// Whether a subscription pattern is valid: `*`, a known type, or `<category>.*` for a
/// category that has types (`booking.*`).
pub fn is_valid_pattern(pattern: &str) -> bool {
    if pattern == "*" || ALL.contains(&pattern) {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(category) => ALL
            .iter()
            .any(|t| t.split_once('.').is_some_and(|(c, _)| c == category)),
        None => false,
    }
}

/// The wildcard pattern that covers a type: `booking.created` → `booking.*`.
pub fn category_pattern(kind: &str) -> String {
    let category = kind.split_once('.').map_or(kind, |(c, _)| c);
    format!("{category}.*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_known_types_categories_or_everything() {
        assert!(is_valid_pattern("*"));
        assert!(is_valid_pattern("booking.created"));
        assert!(is_valid_pattern("booking.*"));
        assert!(is_valid_pattern("conversation.*"));
        assert!(!is_valid_pattern("booking.creatd"));
        assert!(!is_valid_pattern("bookings.*"));
        assert!(!is_valid_pattern("booking.**"));
        assert!(!is_valid_pattern(""));
        assert_eq!(category_pattern("message.status"), "message.*");
    }
}
