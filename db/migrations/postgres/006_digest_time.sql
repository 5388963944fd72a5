-- Digests are due at a wall-clock time (HH:MM) of the subscription's time zone, not only at a
-- whole hour; digest_time replaces digest_hour (docs/architecture.md, "Digests").
ALTER TABLE subscription ADD COLUMN digest_time TEXT COLLATE "C" NOT NULL DEFAULT '08:00'
    CHECK (digest_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$');
UPDATE subscription SET digest_time = lpad(digest_hour::text, 2, '0') || ':00';
ALTER TABLE subscription DROP COLUMN digest_hour;
