-- AsisteClick's turnero protocol, both directions. Times are Unix seconds.

-- turnero as the external agenda AsisteClick consults: one integration per tenant. AsisteClick
-- tells tenants apart only by URL, so each has a random key in its two URLs; the access token
-- AsisteClick sends with callbacks is kept as a SHA-256 hash.
CREATE TABLE asisteclick_integrations (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants (id),
    path_key      TEXT NOT NULL UNIQUE,
    token_hash    TEXT NOT NULL,
    calendar_map  TEXT NOT NULL,   -- {"5": {"calendar_id": "cal_…", "service_id": "svc_…"}}
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- A booking as another system knows it (AsisteClick's event public_key), with what that
-- system told us about it (ticket, location, transcript). The key makes callbacks idempotent.
CREATE TABLE booking_external_refs (
    tenant_id     TEXT NOT NULL,
    system        TEXT NOT NULL,
    external_key  TEXT NOT NULL,
    booking_id    TEXT NOT NULL REFERENCES bookings (id),
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, system, external_key)
);
CREATE INDEX booking_external_refs_booking ON booking_external_refs (booking_id);

-- turnero as the bot platform consulting someone else's agenda: per calendar, the endpoint
-- (JSON: url, external_calendar_id, timeout_ms, webhook_id) and why it was not used.
ALTER TABLE calendars ADD COLUMN availability_api TEXT;
CREATE TABLE availability_fallbacks (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    calendar_id  TEXT NOT NULL,
    at           BIGINT NOT NULL,
    reason       TEXT NOT NULL,    -- timeout | connect | refused_target | http_status | invalid
    detail       TEXT,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX availability_fallbacks_calendar ON availability_fallbacks (calendar_id, id);

-- Webhooks may follow one calendar's bookings only (the AsisteClick callbacks of a calendar
-- whose availability comes from that system).
ALTER TABLE webhooks ADD COLUMN calendar_id TEXT;
