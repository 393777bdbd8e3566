-- Inbound: every text (and keypress) Twilio delivers to us is written here
-- before we answer the webhook, so that nothing is lost while Temporal or the
-- worker is down. A dispatcher hands each event to its workflow (handed_at),
-- a sweep re-hands the ones it could not, and the workflow marks it
-- processed at the end. The dedup key (the MessageSid) makes Twilio's retries
-- of one webhook a single event.

-- +goose Up

CREATE TABLE inbound_events (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('sms', 'keypress')),
    -- MessageSid for texts; the gather's own key for keypresses.
    dedup_key    text NOT NULL UNIQUE CHECK (length(dedup_key) BETWEEN 1 AND 200),
    -- The person (E.164), and which of our numbers they reached. Events of
    -- one from_number are processed in id order.
    from_number  text NOT NULL CHECK (length(from_number) BETWEEN 1 AND 64),
    to_number    text NOT NULL CHECK (length(to_number) BETWEEN 1 AND 64),
    body         text NOT NULL DEFAULT '' CHECK (length(body) <= 1600),
    digits       text NOT NULL DEFAULT '' CHECK (length(digits) <= 64),
    call_sid     text NOT NULL DEFAULT '',
    -- For a keypress: the delivery pipeline's id of the call's message.
    message_id   text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    handed_at    timestamptz,
    processed_at timestamptz,
    -- How the workflow ended: a short word (opt-out, paging, channel,
    -- code-reply, polite-reply, ignored, failed, ...).
    outcome      text NOT NULL DEFAULT ''
);
-- The sweep's work list, in arrival order.
CREATE INDEX inbound_events_unhanded ON inbound_events (id) WHERE handed_at IS NULL;
-- "Is an earlier text from this sender still unprocessed?", and the next one.
CREATE INDEX inbound_events_pending_by_sender ON inbound_events (from_number, id) WHERE processed_at IS NULL;

-- The last polite "this number takes no messages" reply per sender and
-- number, so an unknown number answering itself (or a loop between two
-- robots) gets at most one reply an hour.
CREATE TABLE inbound_replies (
    from_number text NOT NULL,
    to_number   text NOT NULL,
    replied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (from_number, to_number)
);

-- +goose Down
DROP TABLE inbound_replies;
DROP TABLE inbound_events;
