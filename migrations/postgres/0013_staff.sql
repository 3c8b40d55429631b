-- The staff console (issue #17): people who sign in, their sessions, and a professional's
-- own calendars. An email is unique across the installation: the sign-in form asks for
-- nothing else to find the clinic.
CREATE TABLE staff_users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL UNIQUE,
    -- argon2id, in the PHC string format.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reception', 'professional')),
    locale TEXT NOT NULL DEFAULT 'es',
    -- Failed sign-ins in a row; the fifth locks the account until locked_until.
    failed_signins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX staff_users_tenant ON staff_users (tenant_id);

-- A professional sees only these calendars; admins and reception see all of the tenant's.
CREATE TABLE staff_user_calendars (
    user_id TEXT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    calendar_id TEXT NOT NULL REFERENCES calendars(id),
    PRIMARY KEY (user_id, calendar_id)
);

-- Signed-in sessions, by the SHA-256 of the cookie's token; each with its forms' CSRF token.
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
