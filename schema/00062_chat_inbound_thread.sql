-- A chat line given in a Matrix thread or as a reply (a ✅ on a page's
-- message, "ack 12" in a page's thread) is answered in that thread, not in
-- the room's main timeline. The line is durable before it is answered, and
-- an earlier holder's unfinished lines are answered after a restart, so the
-- event it threads under is kept with it. Networks without threads leave it
-- empty.

-- +goose Up
ALTER TABLE chat_inbound
    ADD COLUMN thread_of text NOT NULL DEFAULT '' CHECK (length(thread_of) <= 255);

-- +goose Down
ALTER TABLE chat_inbound DROP COLUMN thread_of;
