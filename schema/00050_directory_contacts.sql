-- Contact methods the directory vouches for. A synchronised person's LDAP
-- mobile and mail become verified contact methods marked source 'ldap':
-- a later sync replaces them when the entry changes, and leaves alone the
-- ones the person added themselves ('api').

-- +goose Up
ALTER TABLE contact_methods
    ADD COLUMN source text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'ldap'));
CREATE INDEX contact_methods_ldap ON contact_methods (user_id) WHERE source = 'ldap';
CREATE INDEX users_source ON users (source) WHERE source = 'ldap';

-- +goose Down
DROP INDEX users_source;
DROP INDEX contact_methods_ldap;
ALTER TABLE contact_methods DROP COLUMN source;
