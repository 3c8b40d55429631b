-- A tenant's Telegram bot. The bot token is kept to call the Bot API and never shown again;
-- the webhook's secret token is kept only as a hash (Telegram sends it back on every update,
-- and it is compared, never read), with the one before it, which updates may still carry
-- while a new registration reaches Telegram. A bot serves one tenant (`bot_id` unique): a
-- second tenant registering it would move its webhook, and its patients, away.
CREATE TABLE telegram_channels (
    tenant_id             TEXT PRIMARY KEY REFERENCES tenants (id),
    path_key              TEXT NOT NULL UNIQUE,
    bot_token             TEXT NOT NULL,
    api_url               TEXT NOT NULL,
    secret_hash           TEXT NOT NULL,
    previous_secret_hash  TEXT,
    bot_id                BIGINT NOT NULL UNIQUE,
    bot_username          TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

-- Telegram chats whose person blocked the bot (the Bot API answered 403): nothing more is
-- sent to them until they write again.
CREATE TABLE telegram_blocked (
    tenant_id   TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    blocked_at  BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, chat_id)
);

-- The phone a channel proved for this conversation after it began (Telegram: the person
-- shared their own contact), E.164. Only this phone unlocks what the agenda knows about a
-- customer; a typed one never does.
ALTER TABLE conversations ADD COLUMN proven_phone TEXT;
