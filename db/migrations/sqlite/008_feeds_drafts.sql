-- Feeds a guild watches, the items each has seen, and the drafts moderators review
-- (docs/architecture.md, "Feeds and drafts"). Times are UTC ISO-8601 text.

CREATE TABLE feed (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    url             TEXT NOT NULL,
    name            TEXT,
    interval_s      INTEGER NOT NULL CHECK (interval_s > 0),
    state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'broken')),
    broken_reason   TEXT,
    etag            TEXT,
    last_modified   TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_polled_at  TEXT,
    last_success_at TEXT,
    next_poll_at    TEXT,
    created_by      INTEGER,
    created_at      TEXT NOT NULL,
    UNIQUE (guild_id, url)
);
CREATE INDEX feed_state ON feed (state, guild_id);

-- Each item a feed has shown, by its key, so it is read once (drafted or not).
CREATE TABLE feed_item (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id  INTEGER NOT NULL REFERENCES feed (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    title    TEXT,
    matched  INTEGER NOT NULL DEFAULT 0 CHECK (matched IN (0, 1)),
    seen_at  TEXT NOT NULL,
    UNIQUE (feed_id, item_key)
);

CREATE TABLE draft (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    kind              TEXT NOT NULL DEFAULT 'new' CHECK (kind IN ('new', 'update')),
    event_id          INTEGER REFERENCES event (id) ON DELETE SET NULL,
    status            TEXT NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'confirmed', 'applied', 'dismissed')),
    origin            TEXT NOT NULL CHECK (origin IN ('feed', 'text', 'file', 'url')),
    title             TEXT NOT NULL DEFAULT '',
    fields            TEXT NOT NULL,
    evidence          TEXT NOT NULL DEFAULT '[]',
    sources           TEXT NOT NULL DEFAULT '[]',
    reactions         TEXT NOT NULL DEFAULT '[]',
    occurred_on       TEXT NOT NULL,
    category          TEXT NOT NULL,
    review_channel_id INTEGER,
    review_message_id INTEGER,
    revision          INTEGER NOT NULL DEFAULT 1,
    posted_revision   INTEGER,
    decided_by        INTEGER,
    decided_at        TEXT,
    result_event_id   INTEGER REFERENCES event (id) ON DELETE SET NULL,
    created_by        INTEGER,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX draft_guild ON draft (guild_id, status, occurred_on);
CREATE INDEX draft_unposted ON draft (status, review_message_id);

CREATE TABLE draft_settings (
    guild_id          INTEGER PRIMARY KEY,
    review_channel_id INTEGER,
    watch_terms       TEXT
);
