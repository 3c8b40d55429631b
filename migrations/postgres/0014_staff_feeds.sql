-- A staff member's private calendar feed (ICS, issue #17), by the SHA-256 of its URL's token.
-- One per person: a new address replaces the old one, and deleting the row revokes it.
CREATE TABLE staff_feeds (
    user_id TEXT PRIMARY KEY REFERENCES staff_users(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
