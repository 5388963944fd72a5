-- Reads that stay fast with a million events (bench/scale.py): /timeline pages and the
-- event autocomplete. The SQLite migration of the same number does the same with FTS5.

-- /timeline reads a guild's events that are not retracted, in timeline order (occurred_at
-- NULLS FIRST, as the queries say), maybe of one category. These partial indexes hold
-- exactly those rows in exactly that order, so a page is a short index range and a
-- capped count stops early. They replace event_category.
CREATE INDEX event_visible ON event (guild_id, occurred_on, occurred_at NULLS FIRST, id)
    WHERE confidence <> 'retracted';
CREATE INDEX event_visible_category
    ON event (guild_id, category, occurred_on, occurred_at NULLS FIRST, id)
    WHERE confidence <> 'retracted';
DROP INDEX event_category;

-- The autocomplete's search: a tsvector per event in event_search, kept by a trigger.
-- The `simple` configuration makes the lexemes (lower case, no stemming, no stop words),
-- after hyphens become spaces: the parser would keep `hwasong-18` (and `-01`) whole
-- beside its parts, and a half-typed `hwasong-1` would then match nothing. A typed word
-- goes through the same two steps, its last lexeme a prefix (event_search_term).
-- Beside the text: `g<guild_id>` (a search can be limited to guilds inside the GIN index)
-- and `m01 md0129` (month and month-day, for `jan` and `jan 29`).
--
-- A search reads the newest rows of each visible guild through event_search_recent and
-- tests each stored tsvector, which finds common words at once; a word too rare among
-- them is looked up in the GIN index instead (db/queries.py, search_events).
CREATE FUNCTION event_search_words(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN replace(value, '-', ' ');

CREATE FUNCTION event_search_document(e event) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('simple', concat_ws(' ',
        'g' || e.guild_id,
        CASE WHEN length(e.occurred_on) >= 7 THEN 'm' || substr(e.occurred_on, 6, 2) END,
        CASE WHEN length(e.occurred_on) >= 10
            THEN 'md' || substr(e.occurred_on, 6, 2) || substr(e.occurred_on, 9, 2) END,
        event_search_words(concat_ws(' ', e.occurred_on, e.category, e.platform, e.name,
            e.launch_site, e.landing_area, e.actor, e.claimed, e.overseen_by, e.summary))));

-- One typed word as a tsquery: its lexemes in a row, the last a prefix; NULL (matching
-- nothing) for a word with no letters or digits, such as `%`.
CREATE FUNCTION event_search_term(word text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT CASE WHEN numnode(p) > 0 THEN to_tsquery('simple', p::text || ':*') END
        FROM phraseto_tsquery('simple', event_search_words(word)) AS p);

CREATE TABLE event_search (
    event_id    BIGINT PRIMARY KEY REFERENCES event (id) ON DELETE CASCADE,
    guild_id    BIGINT NOT NULL,
    occurred_on TEXT COLLATE "C" NOT NULL,
    document    TSVECTOR NOT NULL
);

CREATE FUNCTION event_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_search (event_id, guild_id, occurred_on, document)
        VALUES (NEW.id, NEW.guild_id, NEW.occurred_on, event_search_document(NEW))
        ON CONFLICT (event_id) DO UPDATE SET guild_id = excluded.guild_id,
            occurred_on = excluded.occurred_on, document = excluded.document;
    RETURN NULL;
END
$$;

CREATE TRIGGER event_search_add AFTER INSERT ON event
    FOR EACH ROW EXECUTE FUNCTION event_search_sync();
CREATE TRIGGER event_search_reindex AFTER UPDATE OF guild_id, occurred_on, category,
    platform, name, launch_site, landing_area, actor, claimed, overseen_by, summary ON event
    FOR EACH ROW EXECUTE FUNCTION event_search_sync();

INSERT INTO event_search (event_id, guild_id, occurred_on, document)
    SELECT id, guild_id, occurred_on, event_search_document(event) FROM event;
CREATE INDEX event_search_recent ON event_search (guild_id, occurred_on DESC, event_id DESC);
CREATE INDEX event_search_lexemes ON event_search USING gin (document);
ANALYZE event_search;
