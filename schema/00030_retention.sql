-- Retention: what people wrote and their numbers are purged after
-- KLAXON_RETENTION; the rows stay, as the audit log's metadata (when, which
-- number of ours, status, outcome). purged_at says a row's content is gone.

-- +goose Up
ALTER TABLE inbound_events ADD COLUMN purged_at timestamptz;
ALTER TABLE messages ADD COLUMN purged_at timestamptz;
CREATE INDEX inbound_events_unpurged ON inbound_events (received_at) WHERE purged_at IS NULL;
CREATE INDEX messages_unpurged ON messages (created_at) WHERE purged_at IS NULL;

-- +goose Down
DROP INDEX messages_unpurged;
DROP INDEX inbound_events_unpurged;
ALTER TABLE messages DROP COLUMN purged_at;
ALTER TABLE inbound_events DROP COLUMN purged_at;
