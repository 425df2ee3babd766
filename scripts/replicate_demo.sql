-- Make a larger city from a loaded demo by copying its people (issue 15, docs/benchmarks.md).
--
-- Run on a COPY of a demo database (it truncates the score runs), e.g. for ten times the 1M
-- Seoul demo:
--   createdb -T visitmap_city visitmap_10m
--   psql -d visitmap_10m -v copies=9 -f scripts/replicate_demo.sql
--
-- Each copy k (1..copies) of every household, resident, visit and crisis signal gets the id
-- + k * 10,000,000, the external id suffixed "~k" and a new registration-number HMAC; a
-- household's point moves by up to ~40 m, the same for every household at one point (so an
-- apartment block stays one block). Dongs, facilities, teams and everything else are kept.
-- It is NOT the generator's --scale 10000000 (whose memory grows with the city, 2.1 GB per
-- million at generation): a stand-in of the same size and density for the rescore and tiles.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
-- unscored: drop every run's partitions, then the runs and what refers to them
DO $$
DECLARE part record;
BEGIN
  FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent IN ('resident_scores'::regclass, 'run_tile_points'::regclass)
  LOOP
    EXECUTE format('DROP TABLE %I', part.relname);
  END LOOP;
END $$;
TRUNCATE score_runs CASCADE;
SELECT set_config('replicate.copies', :'copies', false);
DO $$
DECLARE k int;
BEGIN
  FOR k IN 1..current_setting('replicate.copies')::int LOOP
    INSERT INTO households (id, external_id, area_id, size, monthly_income_krw, assets_krw,
        address, geom, nearest_community_centre_m, nearest_senior_or_welfare_m,
        receiving_programmes)
    SELECT id + k * 10000000, external_id || '~' || k, area_id, size, monthly_income_krw,
        assets_krw, address,
        ST_SetSRID(ST_MakePoint(
            ST_X(geom) + ((abs(hashtext(ST_AsText(geom) || 'x' || k)) % 1000) / 1000.0 - 0.5) * 0.0009,
            ST_Y(geom) + ((abs(hashtext(ST_AsText(geom) || 'y' || k)) % 1000) / 1000.0 - 0.5) * 0.0007),
            4326),
        nearest_community_centre_m, nearest_senior_or_welfare_m, receiving_programmes
    FROM households WHERE id < 10000000;
    INSERT INTO residents (id, external_id, household_id, name, rrn_hmac, birth_year, sex,
        lives_alone, has_disability, registered_on, status, unreachable_since, available_from,
        available_until)
    SELECT id + k * 10000000, external_id || '~' || k, household_id + k * 10000000, name,
        CASE WHEN rrn_hmac IS NOT NULL
             THEN sha256(rrn_hmac || convert_to(k::text, 'UTF8')) END, birth_year,
        sex, lives_alone, has_disability, registered_on, status, unreachable_since,
        available_from, available_until
    FROM residents WHERE id < 10000000;
    INSERT INTO visits (id, external_id, resident_id, visited_at, visitor, outcome, notes,
        team_id, member_id, next_visit_on, recorded_at)
    SELECT id + k * 10000000, external_id || '~' || k, resident_id + k * 10000000, visited_at,
        visitor, outcome, notes, team_id, member_id, next_visit_on, recorded_at
    FROM visits WHERE id < 10000000;
    INSERT INTO crisis_signals (id, external_id, resident_id, household_id, kind, observed_on,
        source_agency)
    SELECT id + k * 10000000, external_id || '~' || k, resident_id + k * 10000000,
        household_id + k * 10000000, kind, observed_on, source_agency
    FROM crisis_signals WHERE id < 10000000;
    RAISE NOTICE 'copy % done at %', k, clock_timestamp();
  END LOOP;
END $$;
ANALYZE households; ANALYZE residents; ANALYZE visits; ANALYZE crisis_signals;
SELECT 'residents: ' || count(*) FROM residents;
