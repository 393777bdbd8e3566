-- On-call rotations: ordered members taking turns in shifts that follow a
-- timezone's wall clock, and overrides ("bob covers alice from … to …").
-- Who is on call is never stored: it is computed (package oncall) from these
-- rows, so it can never go stale. The handoff workflow in Temporal reads them
-- to plan each handoff.

-- +goose Up

CREATE TABLE rotations (
    id               bigserial PRIMARY KEY,
    -- Pages name it as "rotation:NAME"; ".ics" is kept free for the
    -- calendar route.
    name             text NOT NULL UNIQUE
                     CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$' AND name NOT LIKE '%.ics'),
    -- An IANA timezone name; checked by the application, which loads it.
    timezone         text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
    shift_hours      int  NOT NULL CHECK (shift_hours BETWEEN 1 AND 8784),
    -- The local wall-clock time at which shift 0 begins: every handoff is
    -- this plus a whole number of shifts, on the local wall clock. Kept
    -- without a zone on purpose: 02:30 on a night the clocks skip is still
    -- 02:30 on every other night.
    handoff_origin   timestamp NOT NULL,
    -- When the first member's first shift begins; nobody is on call before.
    start_at         timestamptz NOT NULL,
    -- How long before a shift its incoming person is reminded; 0 is off.
    reminder_seconds int NOT NULL DEFAULT 3600 CHECK (reminder_seconds BETWEEN 0 AND 604800),
    -- The anchor: this member has shift number anchor_shift, the next member
    -- the shift after, and so on. Member edits move it to whoever is on call
    -- at that moment, so an edit never changes who is on call now.
    anchor_user_id   bigint NOT NULL,
    anchor_shift     bigint NOT NULL,
    -- Bumped by every change, so the handoff workflow can tell it re-planned.
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The members, in order. A person appears once per rotation.
CREATE TABLE rotation_members (
    rotation_id bigint NOT NULL REFERENCES rotations (id) ON DELETE CASCADE,
    position    int    NOT NULL CHECK (position BETWEEN 0 AND 999),
    user_id     bigint NOT NULL REFERENCES users (id),
    PRIMARY KEY (rotation_id, position),
    UNIQUE (rotation_id, user_id)
);

-- The anchor is one of the members: this also guarantees a rotation never
-- ends a transaction with no members. Deferred, because members are
-- replaced inside the transaction that moves the anchor.
ALTER TABLE rotations ADD CONSTRAINT rotations_anchor_is_member
    FOREIGN KEY (id, anchor_user_id) REFERENCES rotation_members (rotation_id, user_id)
    DEFERRABLE INITIALLY DEFERRED;

-- Overrides: user covers the rotation over [start_at, end_at). They never
-- overlap within a rotation, so "who covers at t" has one answer.
CREATE TABLE rotation_overrides (
    id          bigserial PRIMARY KEY,
    rotation_id bigint NOT NULL REFERENCES rotations (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id),
    start_at    timestamptz NOT NULL,
    end_at      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rotation_overrides_ordered CHECK (end_at > start_at),
    CONSTRAINT rotation_overrides_no_overlap EXCLUDE USING gist (
        int8range(rotation_id, rotation_id, '[]') WITH =,
        tstzrange(start_at, end_at) WITH &&
    )
);
CREATE INDEX rotation_overrides_end ON rotation_overrides (rotation_id, end_at);

-- +goose Down
DROP TABLE rotation_overrides;
ALTER TABLE rotations DROP CONSTRAINT rotations_anchor_is_member;
DROP TABLE rotation_members;
DROP TABLE rotations;
