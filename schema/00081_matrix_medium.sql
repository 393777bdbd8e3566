-- The Matrix medium: a contact method, message, code or notification rule
-- may be 'matrix', a Matrix user id the bridge says it to in a private
-- room.

-- +goose Up
ALTER TABLE contact_methods DROP CONSTRAINT contact_methods_type_check,
    ADD CONSTRAINT contact_methods_type_check CHECK (type IN ('sms', 'voice', 'email', 'irc', 'matrix'));
ALTER TABLE messages DROP CONSTRAINT messages_medium_check,
    ADD CONSTRAINT messages_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc', 'matrix'));
ALTER TABLE challenges DROP CONSTRAINT challenges_medium_check,
    ADD CONSTRAINT challenges_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc', 'matrix'));
ALTER TABLE notification_rules DROP CONSTRAINT notification_rules_medium_check,
    ADD CONSTRAINT notification_rules_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc', 'matrix'));

-- +goose Down
ALTER TABLE contact_methods DROP CONSTRAINT contact_methods_type_check,
    ADD CONSTRAINT contact_methods_type_check CHECK (type IN ('sms', 'voice', 'email', 'irc'));
ALTER TABLE messages DROP CONSTRAINT messages_medium_check,
    ADD CONSTRAINT messages_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc'));
ALTER TABLE challenges DROP CONSTRAINT challenges_medium_check,
    ADD CONSTRAINT challenges_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc'));
ALTER TABLE notification_rules DROP CONSTRAINT notification_rules_medium_check,
    ADD CONSTRAINT notification_rules_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc'));

