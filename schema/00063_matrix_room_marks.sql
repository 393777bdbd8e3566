-- Where the bot's sync position is in each room: the newest event of the
-- room it had seen when it stored its next_batch. A sync after a long gap
-- returns only the newest events of a room, and the bot pages back through
-- the rest with /messages; homeservers do not all stop that paging at the
-- sync position (Dendrite 0.13 ignores the `to` token), so the bot stops
-- at this event instead, and nothing said before its position is handled
-- twice. Stored with next_batch, in one transaction.

-- +goose Up
CREATE TABLE matrix_room_marks (
    account    text NOT NULL REFERENCES matrix_sync (account) ON DELETE CASCADE,
    room_id    text NOT NULL CHECK (length(room_id) <= 255),
    last_event text NOT NULL CHECK (last_event <> '' AND length(last_event) <= 255),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, room_id)
);

-- +goose Down
DROP TABLE matrix_room_marks;
