-- API keys get a name (what they are for), when they were last used, and can be revoked: a
-- revoked key is kept (its prefix says which key it was) and never works again.
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT 'first key';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;

-- The web chat's session tokens are signed with a per-tenant secret, so a token the server
-- did not issue is refused (filled in when the chat page is next saved or first used).
ALTER TABLE webchat_channels ADD COLUMN session_secret TEXT NOT NULL DEFAULT '';
