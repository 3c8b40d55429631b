-- A calendar or service that holds bookings is archived instead of deleted (the bookings
-- keep pointing at it); a customer who asks to be forgotten is erased: the row stays for
-- the bookings' sake, with every personal field emptied.
ALTER TABLE calendars ADD COLUMN archived_at BIGINT;
ALTER TABLE services ADD COLUMN archived_at BIGINT;
ALTER TABLE customers ADD COLUMN erased_at BIGINT;

-- Due deliveries are claimed oldest first to the event: a second holds many events, and a
-- receiver coming back after an outage gets what it missed in order.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook_id, next_attempt_at, event_id)
    WHERE state = 'pending';
