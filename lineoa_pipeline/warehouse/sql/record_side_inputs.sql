-- The hash of the settings, tags and media the views were just built from: the published copy carries it,
-- so that a run sees whether they changed since (side_inputs.py), whoever published it.
CREATE OR REPLACE TABLE _side_inputs AS SELECT ?::VARCHAR AS hash
