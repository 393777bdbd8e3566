-- Integrations: monitors reach Klaxon through services. A service names the
-- target its alerts page and holds a secret integration key, the only
-- credential of the integration routes; only the key's hash is kept, so a
-- leaked database does not leak keys. Pages a service opened are linked to
-- it, so subscriptions ("send me an SMS when the api service's pages are
-- acknowledged") can name services.

-- +goose Up

CREATE TABLE services (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    target         text NOT NULL CHECK (target ~ '^(user|rotation|policy):[a-z0-9][a-z0-9_.-]{0,63}$'),
    -- SHA-256 of the key, hex. Rotating replaces it: the old key stops
    -- working at once.
    key_hash       text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    key_rotated_at timestamptz NOT NULL DEFAULT now()
);

-- The pages a service opened; page rows stay the paging domain's own.
CREATE TABLE service_pages (
    page_id    bigint PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    service_id bigint NOT NULL REFERENCES services (id) ON DELETE CASCADE
);
CREATE INDEX service_pages_service ON service_pages (service_id, page_id);

-- Finding a service's last page for a key, open or not, for the flapping
-- guard.
CREATE INDEX pages_dedup_key_recent ON pages (dedup_key, created_at DESC) WHERE dedup_key IS NOT NULL;

-- A page's timeline also says when its alert group changed ("updated"), and
-- when a monitor fired again into a page it could not reopen ("alert").
ALTER TABLE page_events DROP CONSTRAINT page_events_kind_check;
ALTER TABLE page_events ADD CONSTRAINT page_events_kind_check CHECK (kind IN ('created', 'step', 'notified',
    'failed', 'canceled', 'delivery', 'reply', 'acked', 'resolved', 'skipped', 'exhausted', 'updated', 'alert', 'fyi'));

-- Herald's "send me an SMS when …": page events that match send the user an
-- FYI by that medium. Empty fields match anything.
CREATE TABLE subscriptions (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service    text NOT NULL DEFAULT '',
    target     text NOT NULL DEFAULT '',
    event      text NOT NULL DEFAULT '' CHECK (event IN ('', 'opened', 'acked', 'resolved')),
    contains   text NOT NULL DEFAULT '' CHECK (length(contains) <= 200),
    medium     text NOT NULL CHECK (medium IN ('sms', 'email', 'voice')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_user ON subscriptions (user_id, id);

-- Each FYI once: a subscriber is told at most once per page and event.
CREATE TABLE subscription_notices (
    subscription_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    page_id         bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    event           text   NOT NULL,
    message_id      text   NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, page_id, event)
);

-- +goose Down
ALTER TABLE page_events DROP CONSTRAINT page_events_kind_check;
ALTER TABLE page_events ADD CONSTRAINT page_events_kind_check CHECK (kind IN ('created', 'step', 'notified',
    'failed', 'canceled', 'delivery', 'reply', 'acked', 'resolved', 'skipped', 'exhausted'));
DROP TABLE subscription_notices;
DROP TABLE subscriptions;
DROP INDEX pages_dedup_key_recent;
DROP TABLE service_pages;
DROP TABLE services;
