-- Where a network has threads and edits (Matrix), a chat line says more
-- than its text: the message it threads under (thread_of), the page it is
-- an event of (page_id, page_event) with the page's message as it should
-- now read (headline), and the conversation it belongs to (the texts of
-- one person relayed into a room). Networks without threads say the body.

-- +goose Up
ALTER TABLE chat_lines
    ADD COLUMN thread_of    text NOT NULL DEFAULT '' CHECK (length(thread_of) <= 255),
    ADD COLUMN page_id      bigint,
    ADD COLUMN page_event   text NOT NULL DEFAULT '' CHECK (page_event IN ('', 'opened', 'acked', 'resolved', 'escalated')),
    ADD COLUMN headline     text NOT NULL DEFAULT '' CHECK (length(headline) <= 4000),
    ADD COLUMN conversation text NOT NULL DEFAULT '' CHECK (length(conversation) <= 255);

-- +goose Down
ALTER TABLE chat_lines
    DROP COLUMN conversation, DROP COLUMN headline, DROP COLUMN page_event,
    DROP COLUMN page_id, DROP COLUMN thread_of;
