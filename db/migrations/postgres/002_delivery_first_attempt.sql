-- When a delivery was first tried: retries stop before Discord's nonce window (a few
-- minutes) has passed since then, so a resend can never post twice.
ALTER TABLE delivery ADD COLUMN first_attempt_at TEXT COLLATE "C";
CREATE INDEX delivery_subscription ON delivery (subscription_id, status);
