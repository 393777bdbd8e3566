-- The Matrix side of the chat bridge. matrix_sync keeps the bot's sync
-- position (next_batch) per account, so a restart neither replays what it
-- handled nor skips what arrived while it was away. matrix_pages maps a page
-- to its one message in the team room: its events thread under it and its
-- status is edited into it, and a reaction to it acknowledges the page.
-- matrix_threads keeps the running thread of a conversation (the texts of
-- one person relayed into a room) while it is recent. matrix_direct_rooms is
-- the private room the bot shares with each person, so private messages go
-- to one room rather than a new one each time.

-- +goose Up
CREATE TABLE matrix_sync (
    account    text PRIMARY KEY,
    next_batch text NOT NULL CHECK (next_batch <> ''),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE matrix_pages (
    page_id    bigint PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    room_id    text NOT NULL,
    event_id   text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE matrix_threads (
    room_id    text NOT NULL,
    key        text NOT NULL,
    root_event text NOT NULL,
    last_at    timestamptz NOT NULL,
    PRIMARY KEY (room_id, key)
);

CREATE TABLE matrix_direct_rooms (
    user_id    text PRIMARY KEY CHECK (user_id ~ '^@[^:[:space:]]+:[^[:space:]]+$'),
    room_id    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE matrix_direct_rooms;
DROP TABLE matrix_threads;
DROP TABLE matrix_pages;
DROP TABLE matrix_sync;
