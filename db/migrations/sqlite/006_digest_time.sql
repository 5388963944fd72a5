-- Digests are due at a wall-clock time (HH:MM) of the subscription's time zone, not only at a
-- whole hour; digest_time replaces digest_hour (docs/architecture.md, "Digests").
ALTER TABLE subscription ADD COLUMN digest_time TEXT NOT NULL DEFAULT '08:00'
    CHECK (digest_time GLOB '[01][0-9]:[0-5][0-9]' OR digest_time GLOB '2[0-3]:[0-5][0-9]');
UPDATE subscription SET digest_time = printf('%02d:00', digest_hour);
ALTER TABLE subscription DROP COLUMN digest_hour;
