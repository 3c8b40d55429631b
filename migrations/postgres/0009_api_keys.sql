-- API keys get a name (what they are for), when they were last used, and can be revoked: a
-- revoked key is kept (its prefix says which key it was) and never works again.
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT 'first key';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
