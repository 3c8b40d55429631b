-- WhatsApp Cloud API channel, per tenant. Times are Unix seconds.
-- The access token (to send) and the app secret (to verify Meta's signatures) are needed in
-- the clear, so they are stored as given and never shown again by the API; the verify token
-- is only compared, so it is kept as a SHA-256 hash.
CREATE TABLE whatsapp_channels (
    tenant_id          TEXT PRIMARY KEY REFERENCES tenants (id),
    path_key           TEXT NOT NULL UNIQUE,
    phone_number_id    TEXT NOT NULL,
    access_token       TEXT NOT NULL,
    app_secret         TEXT NOT NULL,
    verify_token_hash  TEXT NOT NULL,
    graph_api_url      TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Inbound message and status ids already turned into events: Meta redelivers webhooks.
CREATE TABLE inbound_seen (
    tenant_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    seen_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, channel, external_id)
);

-- The furthest status each sent message has reached: Meta may deliver `delivered` after
-- `read`, and a status never goes back.
CREATE TABLE message_statuses (
    tenant_id   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    rank        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, channel, message_id)
);
