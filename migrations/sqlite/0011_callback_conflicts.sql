-- A booking AsisteClick's bot made that turnero could not keep (the time was taken
-- meanwhile): kept, listed and announced (`booking.conflict`) so the clinic can call the
-- patient who believes they have an appointment.
CREATE TABLE asisteclick_conflicts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    public_key  TEXT NOT NULL,
    calendar_id TEXT,
    start_at    BIGINT,
    code        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    callback    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX asisteclick_conflicts_tenant ON asisteclick_conflicts (tenant_id, created_at);
