-- The SMS ↔ chat bridge. chat_lines is the outbox: every line Klaxon says
-- in chat is a row here first (the claim check: Temporal carries only its
-- id) and is marked sent once the network took it, so a line redelivered
-- by Temporal is said once. chat_inbound holds every chat line the bot
-- accepted before it answers; one not yet processed is handled again by
-- whichever process holds the connection next. chat_sms remembers the
-- texts sent from chat, so a failed delivery is told back where it was
-- asked for. chat_cursor is how far the page-event announcer has read.

-- +goose Up
CREATE TABLE chat_lines (
    id         bigserial PRIMARY KEY,
    network    text NOT NULL CHECK (network IN ('irc', 'matrix')),
    target     text NOT NULL CHECK (length(target) BETWEEN 1 AND 255),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    notice     boolean NOT NULL DEFAULT false,
    -- Makes enqueueing idempotent (an answer to chat_inbound row 7 is
    -- "in/7/1"); NULL keys never collide.
    dedup_key  text UNIQUE CHECK (length(dedup_key) BETWEEN 1 AND 255),
    -- The delivery pipeline's message this line carries (the chat medium).
    message_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    network_id text NOT NULL DEFAULT ''
);

CREATE TABLE chat_inbound (
    id           bigserial PRIMARY KEY,
    network      text NOT NULL CHECK (network IN ('irc', 'matrix')),
    dedup_key    text NOT NULL UNIQUE,
    nick         text NOT NULL,
    account      text NOT NULL DEFAULT '',
    target       text NOT NULL,
    private      boolean NOT NULL DEFAULT false,
    body         text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX chat_inbound_unprocessed ON chat_inbound (network, id) WHERE processed_at IS NULL;

CREATE TABLE chat_sms (
    message_id text PRIMARY KEY,
    network    text NOT NULL,
    -- Where the asker asked: a channel, or their nick.
    reply_to   text NOT NULL,
    asker      text NOT NULL,
    nick       text NOT NULL,
    told       boolean NOT NULL DEFAULT false
);

CREATE TABLE chat_cursor (
    name    text PRIMARY KEY,
    last_id bigint NOT NULL
);

-- +goose Down
DROP TABLE chat_cursor;
DROP TABLE chat_sms;
DROP TABLE chat_inbound;
DROP TABLE chat_lines;
