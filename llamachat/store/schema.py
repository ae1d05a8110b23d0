"""The database schema as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied. Each release
appends migrations and never edits old ones, so any older database can be
brought forward, and a newer one is refused rather than damaged.
"""

from __future__ import annotations

# Statuses whose content is still changing: not indexed for search until final.
LIVE_STATUSES = ("queued", "streaming")

V1_TABLES = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    system_prompt TEXT,
    provider TEXT,
    model TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    archived INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    draft TEXT NOT NULL DEFAULT '',
    active_leaf_id INTEGER
);
CREATE INDEX conversations_by_update ON conversations (archived, updated_at DESC);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL DEFAULT '',
    images TEXT,
    provider TEXT,
    model TEXT,
    params TEXT,
    status TEXT NOT NULL DEFAULT 'complete'
        CHECK (status IN ('queued', 'streaming', 'complete', 'interrupted', 'failed')),
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    credits_usd REAL,
    job_id TEXT,
    job_status TEXT,
    error TEXT,
    error_detail TEXT,
    raw TEXT,
    created_at REAL NOT NULL,
    completed_at REAL,
    ttft REAL,
    tokens_per_second REAL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_by_parent ON messages (parent_id);
"""

V2_SEARCH = f"""
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    title, content='conversations', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts (rowid, content)
    SELECT id, content FROM messages WHERE status NOT IN {LIVE_STATUSES};
INSERT INTO conversations_fts (rowid, title) SELECT id, title FROM conversations;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.status NOT IN {LIVE_STATUSES} BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.status NOT IN {LIVE_STATUSES} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE old.status NOT IN {LIVE_STATUSES};
    INSERT INTO messages_fts (rowid, content)
        SELECT new.id, new.content WHERE new.status NOT IN {LIVE_STATUSES};
END;

CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
    INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END;
"""

V3_OWNERSHIP = """
ALTER TABLE messages ADD COLUMN owner TEXT;
ALTER TABLE messages ADD COLUMN heartbeat_at REAL;
CREATE INDEX messages_live ON messages (status) WHERE status IN ('queued', 'streaming');
"""

# Prefix indexes for two- and three-letter prefixes: searches as you type ("th", "bec")
# stay fast on 100,000 messages. The triggers of V2 keep working on the new table.
V4_PREFIX_INDEX = f"""
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
INSERT INTO messages_fts (rowid, content)
    SELECT id, content FROM messages WHERE status NOT IN {LIVE_STATUSES};
"""

# Ids are never given twice: after the newest conversation is deleted, the next one does not
# take its id (``history show 3`` must not show another conversation). SQLite reuses the
# largest rowid; this keeps the highest id ever given, and inserts take the next one.
V5_IDS_NOT_REUSED = """
CREATE TABLE id_high_water (tbl TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO id_high_water (tbl, last) VALUES
    ('conversations', COALESCE((SELECT MAX(id) FROM conversations), 0)),
    ('messages', COALESCE((SELECT MAX(id) FROM messages), 0));
CREATE TRIGGER conversations_high_water AFTER INSERT ON conversations BEGIN
    UPDATE id_high_water SET last = MAX(last, new.id) WHERE tbl = 'conversations';
END;
CREATE TRIGGER messages_high_water AFTER INSERT ON messages BEGIN
    UPDATE id_high_water SET last = MAX(last, new.id) WHERE tbl = 'messages';
END;
"""

# A reasoning model's thoughts, kept apart from the answer (never sent back, not searched),
# and how long it thought, in seconds.
V6_REASONING = """
ALTER TABLE messages ADD COLUMN reasoning TEXT;
ALTER TABLE messages ADD COLUMN reasoning_seconds REAL;
"""

# The sidebar's counts kept as messages come and go, so listing conversations reads a
# page of rows whatever the number of messages (it counted them all: half a second with a
# million). ``conversation_providers`` holds how many messages of a conversation each
# provider wrote; the index serves the pinned-first order without sorting.
V7_TALLIES = """
ALTER TABLE conversations ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET message_count =
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id);
CREATE TABLE conversation_providers (
    conversation_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    messages INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, provider)
) WITHOUT ROWID;
INSERT INTO conversation_providers (conversation_id, provider, messages)
    SELECT conversation_id, provider, COUNT(*) FROM messages
    WHERE provider IS NOT NULL GROUP BY conversation_id, provider;
CREATE INDEX conversations_pinned_first ON conversations (archived, pinned DESC, updated_at DESC);

CREATE TRIGGER messages_tally_insert AFTER INSERT ON messages BEGIN
    UPDATE conversations SET message_count = message_count + 1 WHERE id = new.conversation_id;
    INSERT INTO conversation_providers (conversation_id, provider, messages)
        SELECT new.conversation_id, new.provider, 1 WHERE new.provider IS NOT NULL
        ON CONFLICT (conversation_id, provider) DO UPDATE SET messages = messages + 1;
END;
CREATE TRIGGER messages_tally_delete AFTER DELETE ON messages BEGIN
    UPDATE conversations SET message_count = message_count - 1 WHERE id = old.conversation_id;
    UPDATE conversation_providers SET messages = messages - 1
        WHERE conversation_id = old.conversation_id AND provider = old.provider;
    DELETE FROM conversation_providers
        WHERE conversation_id = old.conversation_id AND provider = old.provider AND messages <= 0;
END;
CREATE TRIGGER messages_tally_update AFTER UPDATE OF conversation_id, provider ON messages
WHEN old.conversation_id IS NOT new.conversation_id OR old.provider IS NOT new.provider BEGIN
    UPDATE conversations SET message_count = message_count - 1 WHERE id = old.conversation_id;
    UPDATE conversations SET message_count = message_count + 1 WHERE id = new.conversation_id;
    UPDATE conversation_providers SET messages = messages - 1
        WHERE conversation_id = old.conversation_id AND provider = old.provider;
    DELETE FROM conversation_providers
        WHERE conversation_id = old.conversation_id AND provider = old.provider AND messages <= 0;
    INSERT INTO conversation_providers (conversation_id, provider, messages)
        SELECT new.conversation_id, new.provider, 1 WHERE new.provider IS NOT NULL
        ON CONFLICT (conversation_id, provider) DO UPDATE SET messages = messages + 1;
END;
CREATE TRIGGER conversations_tally_delete AFTER DELETE ON conversations BEGIN
    DELETE FROM conversation_providers WHERE conversation_id = old.id;
END;
"""

#: The id a new row of ``{table}`` takes (used inside an INSERT's VALUES).
NEXT_ID = "(SELECT last + 1 FROM id_high_water WHERE tbl = '{table}')"

#: Every migration, in order. Never edit one that has shipped: append a new one.
MIGRATIONS: tuple[str, ...] = (
    V1_TABLES,
    V2_SEARCH,
    V3_OWNERSHIP,
    V4_PREFIX_INDEX,
    V5_IDS_NOT_REUSED,
    V6_REASONING,
    V7_TALLIES,
)
SCHEMA_VERSION = len(MIGRATIONS)
