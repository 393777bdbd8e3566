-- SMS channels: the reserve pool of phone numbers, the channels
-- that take one each, their admins and subscribers, the random hotline ids
-- that hide a sender's number from the admins, the channel requests (for
-- idempotency and per-sender flood limits), and broadcasts (for progress).
-- Constraints guard the invariants: a number belongs to at most one channel,
-- a creation request claims at most one number, a hotline id is unique
-- within its channel and stable per sender.

-- +goose Up

-- The reserve pool. A number is 'available' until a channel request claims
-- it ('in_use'); 'failed' records a number that could not be provisioned.
CREATE TABLE phone_numbers (
    id           bigserial PRIMARY KEY,
    phone        text NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    status       text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'in_use', 'failed')),
    -- source says how the number came to us: added by a maintainer, bought
    -- through the provider, or one of the system channels' numbers.
    source       text NOT NULL DEFAULT 'added' CHECK (source IN ('added', 'provisioned', 'system')),
    provider_sid text NOT NULL DEFAULT '',
    error        text NOT NULL DEFAULT '',
    -- claimed_by is the channel request that took the number; UNIQUE makes
    -- a retried claim find the same number instead of taking a second one.
    claimed_by   text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'in_use') = (claimed_by IS NOT NULL) OR source = 'system')
);
-- The claim query takes the oldest available number.
CREATE INDEX phone_numbers_available ON phone_numbers (id) WHERE status = 'available';

-- A channel: one phone number, its kind, and whether its hotline is open.
-- A deleted channel keeps its row (and its number stays out of the pool
-- until a maintainer adds it again).
CREATE TABLE channels (
    id         bigserial PRIMARY KEY,
    phone      text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    kind       text NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'signup', 'diagnostics')),
    hotline_on boolean NOT NULL DEFAULT true,
    -- request_id is the creation request (workflow id) that made it, so a
    -- retried creation step finds the channel it already made.
    request_id text UNIQUE,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A number belongs to at most one live channel.
CREATE UNIQUE INDEX channels_live_phone ON channels (phone) WHERE deleted_at IS NULL;
-- At most one signup and one diagnostics channel.
CREATE UNIQUE INDEX channels_one_system_kind ON channels (kind) WHERE kind <> 'regular' AND deleted_at IS NULL;

-- Who is on a channel, and as what. The id, not the number, names a member
-- in message ids and logs.
CREATE TABLE channel_members (
    id         bigserial PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    phone      text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    role       text NOT NULL CHECK (role IN ('admin', 'subscriber')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, phone)
);
CREATE INDEX channel_members_by_role ON channel_members (channel_id, role, id);

-- Hotline ids: random, stable per sender per channel, scoped to the channel.
CREATE TABLE hotline_ids (
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    sender     text NOT NULL,
    handle     text NOT NULL CHECK (handle ~ '^@[a-z0-9]{3,12}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, sender),
    UNIQUE (channel_id, handle)
);

-- Channel requests texted to the signup number, one per CHANNEL text that
-- parsed: by whom, and whether it was admitted. The per-sender flood limit
-- counts them.
CREATE TABLE channel_requests (
    id         text PRIMARY KEY,
    requester  text NOT NULL DEFAULT '',
    source     text NOT NULL CHECK (source IN ('sms', 'api')),
    admitted   boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_requests_by_requester ON channel_requests (requester, created_at) WHERE requester <> '';

-- Broadcasts, for progress: the messages of one broadcast carry its id as
-- their ref in the messages table.
CREATE TABLE channel_broadcasts (
    id         text PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    recipients int  NOT NULL DEFAULT 0,
    done       boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_broadcasts_by_channel ON channel_broadcasts (channel_id, created_at DESC);

-- +goose Down
DROP TABLE channel_broadcasts;
DROP TABLE channel_requests;
DROP TABLE hotline_ids;
DROP TABLE channel_members;
DROP TABLE channels;
DROP TABLE phone_numbers;
