-- Webhook hub: subscriptions, their event filters, the delivery queue and every attempt.
-- Times in this file are Unix MILLISECONDS (deliveries are scheduled to the millisecond).

CREATE TABLE webhooks (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id),
    url                    TEXT NOT NULL,
    description            TEXT,
    enabled                BIGINT NOT NULL,
    disabled_reason        TEXT,
    event_types            TEXT NOT NULL,   -- JSON array, as the tenant wrote it
    channel                TEXT,
    format                 TEXT NOT NULL,
    headers                TEXT NOT NULL,   -- JSON object of custom headers
    access_token           TEXT,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  BIGINT,
    breaker                TEXT NOT NULL DEFAULT 'closed',  -- closed | open | probing
    breaker_until          BIGINT NOT NULL DEFAULT 0,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, id);

-- One row per pattern: `booking.created`, `booking.*` or `*`. Fan-out matches in SQL.
CREATE TABLE webhook_filters (
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    pattern     TEXT NOT NULL,
    PRIMARY KEY (webhook_id, pattern)
);

-- The queue: one row per (event, endpoint), written in the event's own transaction.
CREATE TABLE webhook_deliveries (
    event_id         TEXT NOT NULL,
    webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    state            TEXT NOT NULL,    -- pending | sending | delivered | failed | skipped
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    claim            TEXT,
    lease_until      BIGINT,
    held             BIGINT NOT NULL DEFAULT 0,  -- already counted as rejected by the breaker
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    PRIMARY KEY (webhook_id, event_id)  -- endpoint first: deleting one finds its rows
);
-- Claimed rows are found through `leased` (by endpoint) or the key, so a claim token needs no
-- index of its own. The queue's indexes hold only the rows in that state, so they stay as small as the queue
-- (not the history) and a delivered row leaves them instead of being rewritten in them.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook_id, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (webhook_id, lease_until)
    WHERE state = 'sending';
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (webhook_id, created_at)
    WHERE state = 'failed';

CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    trigger      TEXT NOT NULL,    -- scheduled | manual | test | breaker
    at           BIGINT NOT NULL,
    duration_ms  BIGINT,
    status_code  BIGINT,
    outcome      TEXT NOT NULL,    -- success | failed | rejected
    error_kind   TEXT,
    response     TEXT
);
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, at);
CREATE INDEX events_tenant_type ON events (tenant_id, type, id);
