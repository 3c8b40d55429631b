-- Notification rules (reminders, confirmation campaigns) and their plan: one row per message
-- a booking is due to get, written in the booking's own transaction, moved when it is
-- rescheduled and dropped when it is canceled.
CREATE TABLE notification_rules (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    name              TEXT NOT NULL,
    -- 'before_start', 'after_end' or 'on' (a booking event)
    anchor            TEXT NOT NULL,
    -- seconds before the start / after the end (0 for 'on')
    offset_secs       BIGINT NOT NULL,
    -- 'booking.created', 'booking.rescheduled', 'booking.canceled' for 'on'
    on_event          TEXT,
    -- the ISO 8601 duration as the clinic wrote it
    offset_text       TEXT,
    channels          TEXT NOT NULL,
    ask_confirmation  INTEGER NOT NULL,
    whatsapp_template TEXT,
    messages          TEXT NOT NULL,
    grace_secs        BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    deleted_at        BIGINT
);
CREATE INDEX notification_rules_tenant ON notification_rules (tenant_id) WHERE deleted_at IS NULL;

-- The calendars and services a rule is limited to (none of a kind: all of it).
CREATE TABLE notification_rule_scopes (
    rule_id   TEXT NOT NULL REFERENCES notification_rules(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (rule_id, kind, target_id)
);

-- "Send now" for one day's bookings.
CREATE TABLE notification_runs (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    rule_id    TEXT NOT NULL REFERENCES notification_rules(id),
    day        TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_runs_rule ON notification_runs (rule_id, created_at);

CREATE TABLE notification_plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL,
    rule_id         TEXT NOT NULL REFERENCES notification_rules(id),
    booking_id      TEXT NOT NULL REFERENCES bookings(id),
    -- the booking's start (or end, or the event's time) the message is about: a moved
    -- booking gets a new row, a repeated plan of the same one does not
    anchor_at       BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    -- planned, queued, sent, failed, missed, skipped
    state           TEXT NOT NULL,
    run_id          TEXT,
    channel         TEXT,
    -- channels tried and refused, comma-separated
    tried           TEXT NOT NULL DEFAULT '',
    conversation_id TEXT,
    outbox_id       TEXT,
    reason          TEXT,
    answer          TEXT,
    answered_at     BIGINT,
    sent_at         BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (rule_id, booking_id, anchor_at)
);
CREATE INDEX notification_plans_due ON notification_plans (due_at) WHERE state = 'planned';
CREATE INDEX notification_plans_booking ON notification_plans (booking_id);
CREATE INDEX notification_plans_outbox ON notification_plans (outbox_id) WHERE outbox_id IS NOT NULL;
CREATE INDEX notification_plans_run ON notification_plans (run_id) WHERE run_id IS NOT NULL;

-- Per tenant: no message in these local hours (minutes of the day; from > to wraps midnight).
CREATE TABLE notification_settings (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants(id),
    quiet_from   INTEGER,
    quiet_to     INTEGER,
    -- what the one-click links in the tenant's mails are signed with
    link_secret  TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- A tenant's outgoing mail: the SMTP URL (its password write-only) and the sender.
CREATE TABLE email_channels (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants(id),
    smtp_url     TEXT NOT NULL,
    from_address TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- The confirm / cancel / person conversation's words as the clinic edited them (a JSON
-- document like a flow); absent: the built-in words in the tenant's language.
CREATE TABLE notice_words (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A delivery status names the message by the channel's id: finding the reminder it carried.
CREATE INDEX chat_outbox_external ON chat_outbox (tenant_id, external_id) WHERE external_id IS NOT NULL;
