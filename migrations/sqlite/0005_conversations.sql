-- Conversations with the booking bot. Times are Unix seconds.

-- Flows a tenant imported. Every version is kept: a conversation runs to its end on the
-- version it started with. A tenant without a row here runs the built-in flow (version 0)
-- in its locale.
CREATE TABLE flows (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);

-- One per person and channel: a WhatsApp wa_id, a web chat visitor (by the hash of their
-- session token). `state` is the interpreter's JSON state; `revision` guards against two
-- processes answering the same conversation at once.
CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    channel          TEXT NOT NULL,
    contact          TEXT NOT NULL,
    customer_id      TEXT,
    flow_version     BIGINT NOT NULL,
    language         TEXT NOT NULL,
    state            TEXT NOT NULL,
    handoff          BIGINT NOT NULL DEFAULT 0,
    last_inbound_at  BIGINT,
    revision         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (tenant_id, channel, contact)
);
CREATE INDEX conversations_by_tenant ON conversations (tenant_id, id);

-- What people said, written with the message.received event and answered later (right
-- away, or by the sweeper after a crash): nothing said is lost to a kill -9.
CREATE TABLE chat_inbox (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    text             TEXT NOT NULL,
    reply_id         TEXT,
    received_at      BIGINT NOT NULL,
    -- Turns that failed on it; after five it is set aside (done, unanswered) so one bad
    -- message cannot hold up its conversation for ever.
    attempts         BIGINT NOT NULL DEFAULT 0,
    done_at          BIGINT
);
CREATE INDEX chat_inbox_pending ON chat_inbox (conversation_id, id) WHERE done_at IS NULL;

-- What the bot (or staff, through the API) says, written with the conversation's new
-- state. WhatsApp rows are `queued` until the Graph API accepts them; web chat rows are read
-- by the page's event stream.
CREATE TABLE chat_outbox (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    channel          TEXT NOT NULL,
    output           TEXT NOT NULL,
    status           TEXT NOT NULL,
    lease_until      BIGINT,
    external_id      TEXT,
    error            TEXT,
    -- `bot`, or `operator` for staff messages sent through the API.
    sender           TEXT NOT NULL DEFAULT 'bot',
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX chat_outbox_queued ON chat_outbox (created_at) WHERE status = 'queued';
CREATE INDEX chat_outbox_by_conversation ON chat_outbox (conversation_id, id);

-- Message templates the tenant approved with Meta: the only thing that may be sent outside
-- the 24-hour customer service window.
ALTER TABLE whatsapp_channels ADD COLUMN templates TEXT NOT NULL DEFAULT '[]';

-- The web chat page, per tenant.
CREATE TABLE webchat_channels (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id),
    title       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
