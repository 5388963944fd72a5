-- LaunchWatch store, as DESIGN.md's data model. Times are UTC ISO-8601 text; partial
-- dates are ISO text that sorts as text (2024 < 2024-01 < 2024-01-25).

CREATE TABLE event (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    external_id       TEXT,
    occurred_on       TEXT NOT NULL,
    date_precision    TEXT NOT NULL CHECK (date_precision IN ('year', 'month', 'day', 'minute')),
    occurred_at       TEXT,
    actor             TEXT NOT NULL,
    category          TEXT NOT NULL CHECK (category IN ('cruise_missile', 'srbm', 'mrbm', 'irbm',
                          'icbm', 'slbm', 'hypersonic', 'space_launch', 'nuclear_test',
                          'artillery', 'unknown', 'other')),
    name              TEXT,
    count             INTEGER CHECK (count IS NULL OR count >= 1),
    platform          TEXT CHECK (platform IS NULL OR platform IN ('ground', 'tel', 'submarine',
                          'ship', 'aircraft', 'silo')),
    launch_site       TEXT,
    latitude          REAL,
    longitude         REAL,
    landing_area      TEXT,
    distance_km       REAL CHECK (distance_km IS NULL OR distance_km >= 0),
    apogee_km         REAL CHECK (apogee_km IS NULL OR apogee_km >= 0),
    outcome           TEXT NOT NULL DEFAULT 'unknown'
                          CHECK (outcome IN ('success', 'failure', 'unknown')),
    claimed           TEXT,
    overseen_by       TEXT,
    region            TEXT NOT NULL,
    summary           TEXT NOT NULL,
    confidence        TEXT NOT NULL DEFAULT 'reported'
                          CHECK (confidence IN ('disputed', 'reported', 'confirmed', 'retracted')),
    retraction_reason TEXT,
    created_by        INTEGER,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    revision          INTEGER NOT NULL DEFAULT 1,
    UNIQUE (guild_id, external_id)
);
CREATE INDEX event_timeline ON event (guild_id, occurred_on, id);
CREATE INDEX event_category ON event (guild_id, category, occurred_on);

CREATE TABLE event_revision (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL,
    changed_by INTEGER,
    changed_at TEXT NOT NULL,
    field      TEXT NOT NULL,
    old        TEXT,
    new        TEXT
);
CREATE INDEX event_revision_event ON event_revision (event_id, revision);

CREATE TABLE reaction (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    event_id      INTEGER REFERENCES event (id) ON DELETE CASCADE,
    since         TEXT,
    until         TEXT,
    actor         TEXT NOT NULL,
    actor_kind    TEXT NOT NULL DEFAULT 'government'
                      CHECK (actor_kind IN ('government', 'military', 'international_org', 'analyst')),
    speaker       TEXT,
    speaker_title TEXT,
    affiliation   TEXT,
    stance        TEXT NOT NULL CHECK (stance IN ('condemns', 'concerned', 'monitoring',
                      'no_comment', 'supports', 'assessment')),
    summary       TEXT NOT NULL,
    quote         TEXT,
    said_on       TEXT,
    created_by    INTEGER,
    created_at    TEXT NOT NULL,
    CHECK (event_id IS NOT NULL OR since IS NOT NULL)
);
CREATE INDEX reaction_event ON reaction (event_id);
CREATE INDEX reaction_actor ON reaction (guild_id, actor, said_on);
CREATE INDEX reaction_series ON reaction (guild_id, since, until);

CREATE TABLE source (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     INTEGER REFERENCES event (id) ON DELETE CASCADE,
    reaction_id  INTEGER REFERENCES reaction (id) ON DELETE CASCADE,
    url          TEXT,
    publisher    TEXT,
    title        TEXT,
    published_on TEXT,
    CHECK ((event_id IS NULL) <> (reaction_id IS NULL))
);
CREATE INDEX source_event ON source (event_id);
CREATE INDEX source_reaction ON source (reaction_id);

CREATE TABLE subscription (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL UNIQUE,
    regions         TEXT NOT NULL DEFAULT '[]',
    categories      TEXT NOT NULL DEFAULT '[]',
    actors          TEXT NOT NULL DEFAULT '[]',
    min_confidence  TEXT NOT NULL DEFAULT 'disputed'
                        CHECK (min_confidence IN ('disputed', 'reported', 'confirmed')),
    mention_role_id INTEGER,
    mode            TEXT NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest', 'both')),
    digest_every    TEXT NOT NULL DEFAULT 'daily' CHECK (digest_every IN ('daily', 'weekly')),
    digest_hour     INTEGER NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23),
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    last_digest_at  TEXT,
    state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'broken')),
    broken_reason   TEXT,
    created_by      INTEGER,
    created_at      TEXT NOT NULL
);
CREATE INDEX subscription_guild ON subscription (guild_id);
CREATE INDEX subscription_active ON subscription (state, mode);

CREATE TABLE delivery (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id INTEGER NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    event_id        INTEGER REFERENCES event (id) ON DELETE CASCADE,
    revision        INTEGER,
    period          TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('alert', 'correction', 'retraction', 'digest')),
    status          TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    nonce           TEXT NOT NULL CHECK (length(nonce) <= 25),
    message_id      INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscription_id, event_id, revision, kind),
    UNIQUE (subscription_id, period)
);
CREATE INDEX delivery_due ON delivery (status, next_attempt_at);
CREATE INDEX delivery_event ON delivery (event_id, subscription_id);

CREATE TABLE guild_settings (
    guild_id           INTEGER PRIMARY KEY,
    moderator_role_ids TEXT NOT NULL DEFAULT '[]',
    default_actor      TEXT,
    timezone           TEXT,
    log_channel_id     INTEGER
);
