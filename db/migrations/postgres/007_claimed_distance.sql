-- What the launching state says a launch flew, beside what others assessed (distance_km):
-- "North Korea claims X, Japan assessed Y" (docs/architecture.md, "Data model").
ALTER TABLE event ADD COLUMN claimed_distance_km DOUBLE PRECISION
    CHECK (claimed_distance_km IS NULL OR claimed_distance_km >= 0);
