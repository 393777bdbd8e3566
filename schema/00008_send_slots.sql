-- The sending numbers' rate limit, shared by every worker: each number's
-- next free slot. A worker sends from a number only after claiming its slot
-- here, so running several workers does not multiply a number's rate.

-- +goose Up
CREATE TABLE send_slots (
    sender  text PRIMARY KEY,
    next_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE send_slots;
