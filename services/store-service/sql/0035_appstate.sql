-- 0035_appstate: app state (issue 15). Chats and labels get their
-- app-state columns from 0001 (archived, pinned, muted_until, unread,
-- labels, label_chats); the engine's sync state (keys, versions,
-- LTHashes, index -> value MAC maps) lives in signal_keys under the
-- appstate_* kinds. Here: the lookup of a chat's labels.
CREATE INDEX IF NOT EXISTS label_chats_chat ON label_chats (session, chat);
