-- The web console's sign-ins and the one-click acknowledge links of page
-- emails. Only hashes of the secrets (session, trusted-device and link
-- tokens) are kept, so a copy of the database opens no session and acks
-- no page.
--
-- A console session belongs to a user, or (user_id NULL) to a maintainer
-- who gave the API token; admin sessions see the admin pages. Signing out
-- everywhere deletes every session and trusted device of the user.
-- A pending sign-in ties a login code (the OTP challenge) to the browser
-- that asked for it. An ack link is single-use and dies with its page.

-- +goose Up
CREATE TABLE console_sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    admin      boolean NOT NULL DEFAULT false,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (user_id IS NOT NULL OR admin)
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

CREATE TABLE console_devices (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX console_devices_user ON console_devices (user_id);

CREATE TABLE console_logins (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    challenge_id text NOT NULL,
    trust        boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE TABLE ack_links (
    token_hash bytea PRIMARY KEY,
    page_id    bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    message_id text NOT NULL,
    user_handle text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);
CREATE INDEX ack_links_page ON ack_links (page_id);

-- +goose Down
DROP TABLE ack_links;
DROP TABLE console_logins;
DROP TABLE console_devices;
DROP TABLE console_sessions;
