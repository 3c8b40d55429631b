-- The agenda core. Instants are INTEGER Unix seconds (UTC); JSON is TEXT.
CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    phone_region  TEXT NOT NULL,
    locale        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    key_hash    TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE calendars (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    location      TEXT,
    capacity      INTEGER NOT NULL,
    weekly_hours  TEXT NOT NULL,
    policy        TEXT NOT NULL,
    lock_seq      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX calendars_tenant ON calendars (tenant_id, id);

CREATE TABLE calendar_overrides (
    tenant_id    TEXT NOT NULL,
    calendar_id  TEXT NOT NULL REFERENCES calendars(id),
    day          TEXT NOT NULL,
    ranges       TEXT NOT NULL,
    PRIMARY KEY (calendar_id, day)
);

CREATE TABLE time_off (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    calendar_id  TEXT NOT NULL REFERENCES calendars(id),
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    reason       TEXT
);
CREATE INDEX time_off_calendar ON time_off (calendar_id, start_at);

CREATE TABLE services (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id),
    name                   TEXT NOT NULL,
    duration_minutes       INTEGER NOT NULL,
    buffer_before_minutes  INTEGER NOT NULL,
    buffer_after_minutes   INTEGER NOT NULL,
    slot_interval_minutes  INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX services_tenant ON services (tenant_id, id);

CREATE TABLE service_calendars (
    tenant_id    TEXT NOT NULL,
    service_id   TEXT NOT NULL REFERENCES services(id),
    calendar_id  TEXT NOT NULL REFERENCES calendars(id),
    PRIMARY KEY (service_id, calendar_id)
);

CREATE TABLE customers (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    name           TEXT NOT NULL,
    phone          TEXT,
    email          TEXT,
    birthdate      TEXT,
    document_id    TEXT,
    custom_fields  TEXT NOT NULL,
    external_ids   TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, phone)
);
CREATE INDEX customers_tenant ON customers (tenant_id, id);

CREATE TABLE bookings (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    calendar_id    TEXT NOT NULL REFERENCES calendars(id),
    service_id     TEXT NOT NULL REFERENCES services(id),
    customer_id    TEXT REFERENCES customers(id),
    status         TEXT NOT NULL,
    start_at       INTEGER NOT NULL,
    end_at         INTEGER NOT NULL,
    block_start    INTEGER NOT NULL,
    block_end      INTEGER NOT NULL,
    expires_at     INTEGER,
    source         TEXT NOT NULL,
    public_key     TEXT NOT NULL UNIQUE,
    custom_fields  TEXT NOT NULL,
    notes          TEXT,
    cancel_reason  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX bookings_occupying ON bookings (calendar_id, block_start)
    WHERE status IN ('held', 'pending', 'confirmed');
CREATE INDEX bookings_tenant_start ON bookings (tenant_id, start_at);
CREATE INDEX bookings_customer ON bookings (customer_id);
CREATE INDEX bookings_held ON bookings (expires_at) WHERE status = 'held';

CREATE TABLE booking_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    booking_id   TEXT NOT NULL REFERENCES bookings(id),
    at           INTEGER NOT NULL,
    action       TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    source       TEXT NOT NULL,
    detail       TEXT
);
CREATE INDEX booking_history_booking ON booking_history (booking_id, id);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    type        TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, id);

CREATE TABLE idempotency_keys (
    tenant_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
