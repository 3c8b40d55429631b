-- A tenant's Chatwoot account, the bot answering in it as an agent bot. Tokens are kept to
-- call Chatwoot's API and never shown again; the webhook secret (when Chatwoot signs) is kept
-- as given because the signature is an HMAC made with it.
CREATE TABLE chatwoot_channels (
    tenant_id          TEXT PRIMARY KEY REFERENCES tenants (id),
    path_key           TEXT NOT NULL UNIQUE,
    base_url           TEXT NOT NULL,
    account_id         BIGINT NOT NULL,
    inbox_id           BIGINT,
    api_access_token   TEXT NOT NULL,
    agent_bot_token    TEXT,
    hmac_secret        TEXT,
    -- The booking events already looked at for contact attributes (an event id), and which
    -- process is following them now.
    events_cursor      TEXT NOT NULL DEFAULT '',
    follow_owner       TEXT,
    follow_until       BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- A run copying the tenant's customers into Chatwoot's contacts: where it is (the last
-- customer id done), what it did, and which process is running it.
CREATE TABLE chatwoot_sync_runs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    status        TEXT NOT NULL,
    cursor        TEXT NOT NULL DEFAULT '',
    total         BIGINT NOT NULL,
    created       BIGINT NOT NULL DEFAULT 0,
    updated       BIGINT NOT NULL DEFAULT 0,
    unchanged     BIGINT NOT NULL DEFAULT 0,
    skipped       BIGINT NOT NULL DEFAULT 0,
    failed        BIGINT NOT NULL DEFAULT 0,
    -- {"reason": count} of the skipped and failed.
    reasons       TEXT NOT NULL DEFAULT '{}',
    owner         TEXT,
    lease_until   BIGINT,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX chatwoot_sync_runs_tenant ON chatwoot_sync_runs (tenant_id, id);
-- One run at a time per tenant, whatever the number of processes.
CREATE UNIQUE INDEX chatwoot_sync_runs_one_running ON chatwoot_sync_runs (tenant_id)
    WHERE status = 'running';
