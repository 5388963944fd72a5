-- A dispatcher claims the deliveries it is about to send until `claimed_until`, so that
-- several processes on one database never send the same row. A process releases its own
-- shards' claims at start-up (after a crash), since only it owns those shards.
ALTER TABLE delivery ADD COLUMN claimed_until TEXT;
