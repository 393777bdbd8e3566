-- Opt-outs are per pair of numbers, as carriers and Twilio keep them: STOP
-- texted to a channel's number leaves that channel, and must not silence the
-- pages that come from the paging number. A row with an empty sender (from
-- before this migration) still blocks every sender.

-- +goose Up
ALTER TABLE opt_outs ADD COLUMN sender text NOT NULL DEFAULT '';
ALTER TABLE opt_outs DROP CONSTRAINT opt_outs_pkey;
ALTER TABLE opt_outs ADD PRIMARY KEY (number, sender);
ALTER TABLE opt_outs ALTER COLUMN sender DROP DEFAULT;

-- +goose Down
DELETE FROM opt_outs a USING opt_outs b WHERE a.number = b.number AND a.sender > b.sender;
ALTER TABLE opt_outs DROP CONSTRAINT opt_outs_pkey;
ALTER TABLE opt_outs DROP COLUMN sender;
ALTER TABLE opt_outs ADD PRIMARY KEY (number);
