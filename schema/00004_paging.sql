-- Paging: escalation policies and per-person notification rules (who is
-- reached, how, and after how long), pages with their timeline, and the short
-- reply codes people text back to acknowledge. The page workflow in Temporal
-- drives the escalation; these tables are what outlives it and what the API,
-- the SMS replies and the call keypresses read.

-- +goose Up

-- An escalation policy: ordered steps, each naming whom to page and how long
-- to wait for an acknowledgement before the next step; after the last step
-- the policy starts over, repeat_count more times.
CREATE TABLE escalation_policies (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    repeat_count int  NOT NULL DEFAULT 0 CHECK (repeat_count BETWEEN 0 AND 20),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE escalation_steps (
    policy_id     bigint NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    position      int    NOT NULL CHECK (position BETWEEN 0 AND 49),
    -- How long this step waits for an acknowledgement before the next one.
    delay_seconds int    NOT NULL CHECK (delay_seconds BETWEEN 1 AND 86400),
    PRIMARY KEY (policy_id, position)
);

-- Whom a step pages. Targets are names, resolved when the step fires, so a
-- rotation pages whoever is on call at that moment.
CREATE TABLE escalation_step_targets (
    policy_id bigint NOT NULL,
    position  int    NOT NULL,
    ord       int    NOT NULL CHECK (ord BETWEEN 0 AND 19),
    target    text   NOT NULL CHECK (target ~ '^(user|rotation):[a-z0-9][a-z0-9_.-]{0,63}$'),
    PRIMARY KEY (policy_id, position, ord),
    UNIQUE (policy_id, position, target),
    FOREIGN KEY (policy_id, position) REFERENCES escalation_steps (policy_id, position) ON DELETE CASCADE
);

-- How a person wants to be escalated: each medium after a delay from the
-- first notification. With no rules a person gets the defaults (SMS at
-- once, a call after 2 minutes, email after 5).
CREATE TABLE notification_rules (
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    medium        text   NOT NULL CHECK (medium IN ('sms', 'voice', 'email')),
    delay_seconds int    NOT NULL CHECK (delay_seconds BETWEEN 0 AND 86400),
    PRIMARY KEY (user_id, medium, delay_seconds)
);

-- A page: something someone must look at now.
CREATE TABLE pages (
    id           bigserial PRIMARY KEY,
    target       text NOT NULL CHECK (target ~ '^(user|rotation|policy):[a-z0-9][a-z0-9_.-]{0,63}$'),
    summary      text NOT NULL CHECK (length(summary) BETWEEN 1 AND 1000),
    details      text NOT NULL DEFAULT '' CHECK (length(details) <= 10000),
    mode         text NOT NULL DEFAULT 'escalate' CHECK (mode IN ('escalate', 'blast')),
    urgency      text NOT NULL DEFAULT 'high' CHECK (urgency IN ('high', 'low')),
    -- Overrides, for this page, the wait before each next medium or step.
    escalate_after_seconds int CHECK (escalate_after_seconds BETWEEN 1 AND 86400),
    dedup_key    text CHECK (length(dedup_key) BETWEEN 1 AND 255),
    -- Who asked: "api", or the handle of a person who texted "get X now".
    requested_by text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acked', 'resolved')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    acked_at     timestamptz,
    acked_by     text NOT NULL DEFAULT '',
    resolved_at  timestamptz,
    resolved_by  text NOT NULL DEFAULT '',
    CHECK (CASE status
        WHEN 'open'  THEN acked_at IS NULL AND resolved_at IS NULL
        WHEN 'acked' THEN acked_at IS NOT NULL AND resolved_at IS NULL
        ELSE resolved_at IS NOT NULL END)
);
-- One live page per dedup key: a monitor that fires again while its page is
-- open or acknowledged gets that page back instead of paging anyone again.
CREATE UNIQUE INDEX pages_live_dedup_key ON pages (dedup_key) WHERE status <> 'resolved';
CREATE INDEX pages_status ON pages (status, id);

-- A page's timeline: creation, every notification, delivery status, reply,
-- acknowledgement, resolution and skipped step.
CREATE TABLE page_events (
    id          bigserial PRIMARY KEY,
    page_id     bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    kind        text   NOT NULL CHECK (kind IN ('created', 'step', 'notified', 'failed', 'canceled', 'delivery',
                                                 'reply', 'acked', 'resolved', 'skipped', 'exhausted')),
    -- Makes recording idempotent: a retried activity or a repeated status
    -- callback records its event once. NULL keys never collide.
    key         text,
    user_handle text   NOT NULL DEFAULT '',
    medium      text   NOT NULL DEFAULT '',
    -- The contact, redacted ("+1******0123", "a***@example.com").
    contact     text   NOT NULL DEFAULT '',
    message_id  text   NOT NULL DEFAULT '',
    detail      text   NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (page_id, key)
);
CREATE INDEX page_events_page ON page_events (page_id, id);

-- Reply codes: the short number a person texts back ("3a"). Each phone that
-- a live page reaches gets the lowest code no live page uses on that phone;
-- resolving the page frees the code (freed_at), and the freed row stays a
-- while so that a late "3a" gets "page 3 is already resolved", not silence.
CREATE TABLE page_reply_codes (
    id          bigserial PRIMARY KEY,
    phone       text   NOT NULL,
    code        int    NOT NULL CHECK (code BETWEEN 1 AND 9999),
    page_id     bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    -- The person this phone belongs to, for "acked by".
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    -- When a page text last went to this phone: a bare "a" means the latest.
    notified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    freed_at    timestamptz,
    UNIQUE (page_id, phone)
);
-- A code names one live page per phone.
CREATE UNIQUE INDEX page_reply_codes_live ON page_reply_codes (phone, code) WHERE freed_at IS NULL;
CREATE INDEX page_reply_codes_freed ON page_reply_codes (phone, code, freed_at) WHERE freed_at IS NOT NULL;

-- Error replies to texts the paging number could not understand, so that a
-- confused phone (or an auto-responder) gets a few, never an SMS loop. The
-- inbound event id makes a retried count one.
CREATE TABLE page_error_replies (
    phone    text   NOT NULL,
    event_id bigint NOT NULL,
    sent_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (phone, event_id)
);
CREATE INDEX page_error_replies_recent ON page_error_replies (phone, sent_at);

-- +goose Down
DROP TABLE page_error_replies;
DROP TABLE page_reply_codes;
DROP TABLE page_events;
DROP TABLE pages;
DROP TABLE notification_rules;
DROP TABLE escalation_step_targets;
DROP TABLE escalation_steps;
DROP TABLE escalation_policies;
