-- The chat medium: a contact method, message, code or notification rule
-- may be 'irc', a nick the chat bridge says it to privately.

-- +goose Up
ALTER TABLE contact_methods DROP CONSTRAINT contact_methods_type_check,
    ADD CONSTRAINT contact_methods_type_check CHECK (type IN ('sms', 'voice', 'email', 'irc'));
ALTER TABLE messages DROP CONSTRAINT messages_medium_check,
    ADD CONSTRAINT messages_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc'));
ALTER TABLE challenges DROP CONSTRAINT challenges_medium_check,
    ADD CONSTRAINT challenges_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc'));
ALTER TABLE notification_rules DROP CONSTRAINT notification_rules_medium_check,
    ADD CONSTRAINT notification_rules_medium_check CHECK (medium IN ('sms', 'voice', 'email', 'irc'));

-- +goose Down
ALTER TABLE notification_rules DROP CONSTRAINT notification_rules_medium_check,
    ADD CONSTRAINT notification_rules_medium_check CHECK (medium IN ('sms', 'voice', 'email'));
ALTER TABLE challenges DROP CONSTRAINT challenges_medium_check,
    ADD CONSTRAINT challenges_medium_check CHECK (medium IN ('sms', 'voice', 'email'));
ALTER TABLE messages DROP CONSTRAINT messages_medium_check,
    ADD CONSTRAINT messages_medium_check CHECK (medium IN ('sms', 'voice', 'email'));
ALTER TABLE contact_methods DROP CONSTRAINT contact_methods_type_check,
    ADD CONSTRAINT contact_methods_type_check CHECK (type IN ('sms', 'voice', 'email'));
