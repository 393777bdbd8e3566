-- The directory: how chat and the organisation's directory name people.
-- A user's nick is what the chat bridge knows them by (it defaults to the
-- handle); matrix_id is their Matrix user id; irc_account is the services
-- account an IRC server vouches for when it differs from the nick. Users
-- synchronised from LDAP carry source 'ldap' and their entry's DN; a person
-- removed from the directory is deactivated (paged no more, history kept).

-- +goose Up
ALTER TABLE users
    ADD COLUMN nick           text,
    ADD COLUMN matrix_id      text CHECK (matrix_id ~ '^@[^:[:space:]]+:[^[:space:]]+$'),
    ADD COLUMN irc_account    text CHECK (length(irc_account) BETWEEN 1 AND 64),
    ADD COLUMN source         text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'ldap')),
    ADD COLUMN ldap_dn        text,
    ADD COLUMN active         boolean NOT NULL DEFAULT true,
    ADD COLUMN deactivated_at timestamptz;
UPDATE users SET nick = handle;
ALTER TABLE users
    ALTER COLUMN nick SET NOT NULL,
    ADD CONSTRAINT users_nick_check CHECK (nick ~ '^[^[:space:],*?!@#:][^[:space:],*?!@:]{0,31}$');
-- IRC compares nicks case-insensitively; so does Klaxon.
CREATE UNIQUE INDEX users_nick_lower ON users (lower(nick));
CREATE UNIQUE INDEX users_matrix_id ON users (matrix_id) WHERE matrix_id IS NOT NULL;
CREATE UNIQUE INDEX users_ldap_dn ON users (ldap_dn) WHERE ldap_dn IS NOT NULL;

-- +goose Down
DROP INDEX users_ldap_dn;
DROP INDEX users_matrix_id;
DROP INDEX users_nick_lower;
ALTER TABLE users
    DROP COLUMN deactivated_at, DROP COLUMN active, DROP COLUMN ldap_dn,
    DROP COLUMN source, DROP COLUMN irc_account, DROP COLUMN matrix_id, DROP COLUMN nick;
