-- Reads that stay fast with a million events (bench/scale.py): /timeline pages and the
-- event autocomplete. The PostgreSQL migration of the same number does the same with
-- that database's own tools.

-- /timeline reads a guild's events that are not retracted, in timeline order, maybe of
-- one category. These partial indexes hold exactly those rows in exactly that order, so
-- a page is a short index range and a capped count stops early. They replace
-- event_category, whose rows lacked occurred_at (every page sorted its whole range).
-- confidence is in the columns only so that SQLite reads these as covering indexes (it
-- does not take the partial index's WHERE as covering that column).
CREATE INDEX event_visible ON event (guild_id, occurred_on, occurred_at, id, confidence)
    WHERE confidence <> 'retracted';
CREATE INDEX event_visible_category
    ON event (guild_id, category, occurred_on, occurred_at, id, confidence)
    WHERE confidence <> 'retracted';
DROP INDEX event_category;

-- The autocomplete's search: FTS5, each typed word a token prefix (`kim`, `hwasong-1`).
-- Columns: guild (`g<guild_id>`: the visible guilds are part of the match), day
-- (occurred_on), cal (`m01 md0129`: month and month-day, for `jan` and `jan 29`), body
-- (the descriptive text). The table stores no text of its own (content=''), and its
-- rowid is a sort key, not the event id: (occurred_on as YYYYMMDD, 00 for a part not
-- known) * 2^36 + id. FTS5 returns rows in rowid order, so `ORDER BY rowid DESC LIMIT
-- 25` reads only the 25 newest matches (occurred_on DESC, id DESC) and stops, however
-- many events match. Event ids stay below 2^36. Prefix indexes of 1 to 3 characters
-- make the first keystrokes as fast as whole words.
--
-- event_document is the one definition of an event's indexed text: the triggers add it
-- and remove it (a contentless table is told the exact values it indexed), so changing
-- the view means rebuilding event_search.
CREATE VIEW event_document AS
SELECT
    (CAST(substr(occurred_on, 1, 4) AS INTEGER) * 10000
        + CAST(substr(occurred_on, 6, 2) AS INTEGER) * 100
        + CAST(substr(occurred_on, 9, 2) AS INTEGER)) * 68719476736 + id AS key,
    id,
    'g' || guild_id AS guild,
    occurred_on AS day,
    CASE WHEN length(occurred_on) >= 7 THEN 'm' || substr(occurred_on, 6, 2) ELSE '' END
        || CASE WHEN length(occurred_on) >= 10
            THEN ' md' || substr(occurred_on, 6, 2) || substr(occurred_on, 9, 2) ELSE '' END
        AS cal,
    category || ' ' || COALESCE(platform, '') || ' ' || COALESCE(name, '') || ' '
        || COALESCE(launch_site, '') || ' ' || COALESCE(landing_area, '') || ' ' || actor
        || ' ' || COALESCE(claimed, '') || ' ' || COALESCE(overseen_by, '') || ' ' || summary
        AS body
FROM event;

CREATE VIRTUAL TABLE event_search USING fts5(
    guild, day, cal, body, content = '', columnsize = 0, prefix = '1 2 3'
);

CREATE TRIGGER event_search_add AFTER INSERT ON event BEGIN
    INSERT INTO event_search (rowid, guild, day, cal, body)
        SELECT key, guild, day, cal, body FROM event_document WHERE id = NEW.id;
END;

CREATE TRIGGER event_search_remove BEFORE DELETE ON event BEGIN
    INSERT INTO event_search (event_search, rowid, guild, day, cal, body)
        SELECT 'delete', key, guild, day, cal, body FROM event_document WHERE id = OLD.id;
END;

CREATE TRIGGER event_search_unindex BEFORE UPDATE OF guild_id, occurred_on, category,
    platform, name, launch_site, landing_area, actor, claimed, overseen_by, summary ON event
BEGIN
    INSERT INTO event_search (event_search, rowid, guild, day, cal, body)
        SELECT 'delete', key, guild, day, cal, body FROM event_document WHERE id = OLD.id;
END;

CREATE TRIGGER event_search_reindex AFTER UPDATE OF guild_id, occurred_on, category,
    platform, name, launch_site, landing_area, actor, claimed, overseen_by, summary ON event
BEGIN
    INSERT INTO event_search (rowid, guild, day, cal, body)
        SELECT key, guild, day, cal, body FROM event_document WHERE id = NEW.id;
END;

INSERT INTO event_search (rowid, guild, day, cal, body)
    SELECT key, guild, day, cal, body FROM event_document;
INSERT INTO event_search (event_search) VALUES ('optimize');
