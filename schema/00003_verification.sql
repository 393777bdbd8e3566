-- Verification and login codes. A challenge is one verification of a contact
-- method, or one login code for another application; a workflow per
-- challenge sends its codes and waits for the answer. Only a salted hash of
-- the current code is kept, and every check (attempt count, expiry, the
-- contact becoming verified) happens here in one transaction, whichever way
-- the code arrives (the API, or a text back to the paging number). The
-- challenges are also the throttles' log: counting recent rows per number,
-- per user and overall keeps SMS-pumping fraud out across every process.

-- +goose Up

CREATE TABLE challenges (
    -- The workflow id: 'verify/contact/<contact id>/<random>', 'otp/<otp id>'.
    id           text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    purpose      text NOT NULL CHECK (purpose IN ('verify', 'otp')),
    contact_id   bigint REFERENCES contact_methods (id) ON DELETE CASCADE,
    user_id      bigint REFERENCES users (id) ON DELETE CASCADE,
    medium       text NOT NULL CHECK (medium IN ('sms', 'voice', 'email')),
    -- Where the codes go: an E.164 number or an email address.
    address      text NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'verified', 'expired', 'locked', 'failed', 'canceled')),
    -- HMAC-SHA256 of the current code under a random per-code salt.
    salt         bytea,
    code_hash    bytea,
    sends        int NOT NULL DEFAULT 0 CHECK (sends >= 0),
    attempts     int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts int NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    sent_at      timestamptz,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK ((purpose = 'verify') = (contact_id IS NOT NULL)),
    CHECK (attempts <= max_attempts),
    CHECK ((status = 'pending') = (finished_at IS NULL)),
    CHECK ((salt IS NULL) = (code_hash IS NULL))
);
-- A contact method has at most one verification under way.
CREATE UNIQUE INDEX challenges_one_pending_per_contact ON challenges (contact_id) WHERE status = 'pending';
-- Throttles: recent challenges per number, per user, overall.
CREATE INDEX challenges_address ON challenges (address, created_at);
CREATE INDEX challenges_user ON challenges (user_id, created_at) WHERE user_id IS NOT NULL;
CREATE INDEX challenges_created ON challenges (created_at);

-- +goose Down
DROP TABLE challenges;
