-- Foundation: people and how to reach them, every outbound message with its
-- delivery attempts and provider status callbacks (the audit log), and the
-- numbers that opted out of texts.

-- +goose Up

-- People. The handle is how pages, rotations and chat address someone.
CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    handle     text NOT NULL UNIQUE CHECK (handle ~ '^[a-z0-9][a-z0-9_.-]{0,31}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone   text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A way to reach a user. Unverified methods are never paged.
CREATE TABLE contact_methods (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('sms', 'voice', 'email')),
    address     text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified')),
    verified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, type, address)
);
CREATE INDEX contact_methods_address ON contact_methods (address);

-- Every outbound message, whatever sent it. The id is the delivery's
-- idempotency key, chosen by the sender (API id, page notification id...),
-- so a retried activity or replayed workflow finds the same row.
CREATE TABLE messages (
    id           text PRIMARY KEY,
    medium       text NOT NULL CHECK (medium IN ('sms', 'voice', 'email')),
    sender       text NOT NULL DEFAULT '',
    recipient    text NOT NULL,
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL,
    thread_key   text NOT NULL DEFAULT '',
    priority     int  NOT NULL DEFAULT 1,
    purpose      text NOT NULL DEFAULT '',
    ref          text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'queued',
    -- status_rank makes status changes monotonic (klaxon.StatusRank).
    status_rank  int  NOT NULL DEFAULT 0,
    provider_id  text UNIQUE,
    error_kind   text NOT NULL DEFAULT '',
    error_code   text NOT NULL DEFAULT '',
    error_reason text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_ref ON messages (ref) WHERE ref <> '';
CREATE INDEX messages_status ON messages (status, created_at);

-- One row per try to hand a message to its provider. The key is the
-- Temporal attempt, so a retried activity records each try once.
CREATE TABLE delivery_attempts (
    message_id   text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    lane         text NOT NULL CHECK (lane IN ('first', 'retry')),
    attempt      int  NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text NOT NULL DEFAULT 'started',
    provider_id  text,
    error_kind   text NOT NULL DEFAULT '',
    error_code   text NOT NULL DEFAULT '',
    error_reason text NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, lane, attempt)
);

-- Provider status callbacks, deduplicated by (provider id, status). They may
-- arrive before the sending activity has recorded the provider id, so they
-- are keyed by the provider's id, not ours.
CREATE TABLE status_events (
    id          bigserial PRIMARY KEY,
    provider_id text NOT NULL,
    status      text NOT NULL,
    rank        int  NOT NULL,
    detail      text NOT NULL DEFAULT '',
    error_code  text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider_id, status)
);

-- Numbers that texted STOP (or that the provider reports as opted out).
-- Nothing but the confirmation goes to them until they text START.
CREATE TABLE opt_outs (
    number     text PRIMARY KEY,
    keyword    text NOT NULL DEFAULT 'STOP',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE opt_outs;
DROP TABLE status_events;
DROP TABLE delivery_attempts;
DROP TABLE messages;
DROP TABLE contact_methods;
DROP TABLE users;
