-- Claims: values a workflow is handed by reference instead of in its
-- payload (the claim check), so that no phone number, address, code or
-- channel text reaches Temporal's history. A workflow carries "claim:ID";
-- the activity that needs the value loads it here, at the edge. Typed codes
-- are claims too, and are deleted once checked.

-- +goose Up
CREATE TABLE claims (
    id         bigserial PRIMARY KEY,
    -- What the value is, for people reading this table: a number, a list
    -- of numbers (comma-separated), a text, a code.
    kind       text NOT NULL CHECK (kind IN ('number', 'numbers', 'text', 'code')),
    value      text NOT NULL CHECK (length(value) <= 1600),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_created ON claims (created_at);

-- +goose Down
DROP TABLE claims;
