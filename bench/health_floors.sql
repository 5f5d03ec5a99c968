-- What any health scorer must pay on the bench_health portfolio, statement by statement, to set
-- the "within 3x of the reference" target of the health benchmark against (docs/health.md,
-- Benchmark). Run it on the database `manage.py bench_health` built, after a bench run:
--
--     psql -h 127.0.0.1 -U postgres rapport_bench -f bench/health_floors.sql
--
-- Every statement runs four times; read the last three timings. Nothing is changed: the writes
-- go to temporary tables inside a transaction that is rolled back. Dates follow the scorer's
-- windows for today (W = the 90 days to today, B = the 180 days before), in UTC.
\timing on
\o /dev/null
SET jit = off;
\set w_start '(current_date - 89)::timestamptz'
\set b_start '(current_date - 269)::timestamptz'
\set end_ '(current_date + 1)::timestamptz'
\set consultative '(''strategy'', ''positioning'', ''advisory'', ''co_creation'')'

\echo '1. The reference of bench_health, sessions part: count and minutes per engagement over W and B.'
\echo '   (The whole reference is four such statements; bench_health prints its total.)'
SELECT engagement_id, count(*), sum(duration_minutes) FROM engagements_session
 WHERE start >= :b_start AND start < :end_ GROUP BY engagement_id;
SELECT engagement_id, count(*), sum(duration_minutes) FROM engagements_session
 WHERE start >= :b_start AND start < :end_ GROUP BY engagement_id;
SELECT engagement_id, count(*), sum(duration_minutes) FROM engagements_session
 WHERE start >= :b_start AND start < :end_ GROUP BY engagement_id;
SELECT engagement_id, count(*), sum(duration_minutes) FROM engagements_session
 WHERE start >= :b_start AND start < :end_ GROUP BY engagement_id;

\echo '2. The session signals the model needs (W and B apart, consultative minutes, advice, initiative,'
\echo '   last session), for the whole portfolio in one statement, without attendance.'
\set signals 'SELECT engagement_id, count(*) FILTER (WHERE start >= :w_start), sum(duration_minutes) FILTER (WHERE start >= :w_start), sum(duration_minutes) FILTER (WHERE start >= :w_start AND focus IN :consultative), count(*) FILTER (WHERE start >= :w_start AND advice_requested), count(*) FILTER (WHERE start >= :w_start AND initiated_by = ''client''), count(*) FILTER (WHERE start < :w_start), sum(duration_minutes) FILTER (WHERE start < :w_start), sum(duration_minutes) FILTER (WHERE start < :w_start AND focus IN :consultative), max(start) FROM engagements_session WHERE start >= :b_start AND start < :end_ GROUP BY engagement_id'
:signals;
:signals;
:signals;
:signals;

\echo '3. Sponsor presence: sessions in W attended by an executive or by the sponsor on the date,'
\echo '   whole portfolio, one statement (the reference reads no attendance row at all).'
\set attendance 'SELECT s.engagement_id, count(DISTINCT s.id) FROM engagements_session_client_attendees a JOIN clients_contact c ON c.id = a.contact_id JOIN engagements_session s ON s.id = a.session_id WHERE (c.seniority = ''executive'' OR c.id IN (SELECT contact_id FROM clients_sponsorperiod WHERE start <= current_date AND ("end" IS NULL OR "end" >= current_date))) AND s.start >= :w_start AND s.start < :end_ GROUP BY 1'
:attendance;
:attendance;
:attendance;
:attendance;

\echo '4. Writing the results, as rows already computed (no JSON to parse): every snapshot, then every'
\echo '   flag, copied into empty tables shaped like the real ones (their indexes included).'
BEGIN;
CREATE TEMP TABLE floor_snapshot (LIKE health_healthsnapshot INCLUDING ALL);
CREATE TEMP TABLE floor_flag (LIKE health_flag INCLUDING ALL);
INSERT INTO floor_snapshot SELECT * FROM health_healthsnapshot WHERE date = current_date;
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT * FROM health_healthsnapshot WHERE date = current_date;
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT * FROM health_healthsnapshot WHERE date = current_date;
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT * FROM health_healthsnapshot WHERE date = current_date;
\echo '5. The same snapshots when their explanations arrive as JSON text, as from any client program.'
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT id, date, score, mode, state, depth, balance, advice_rate, cadence, days_since_last_session, sponsor_presence, client_rating, consultant_rating, perception_gap, delivery, components::text::jsonb, algorithm_version, engagement_id FROM health_healthsnapshot WHERE date = current_date;
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT id, date, score, mode, state, depth, balance, advice_rate, cadence, days_since_last_session, sponsor_presence, client_rating, consultant_rating, perception_gap, delivery, components::text::jsonb, algorithm_version, engagement_id FROM health_healthsnapshot WHERE date = current_date;
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT id, date, score, mode, state, depth, balance, advice_rate, cadence, days_since_last_session, sponsor_presence, client_rating, consultant_rating, perception_gap, delivery, components::text::jsonb, algorithm_version, engagement_id FROM health_healthsnapshot WHERE date = current_date;
TRUNCATE floor_snapshot;
INSERT INTO floor_snapshot SELECT id, date, score, mode, state, depth, balance, advice_rate, cadence, days_since_last_session, sponsor_presence, client_rating, consultant_rating, perception_gap, delivery, components::text::jsonb, algorithm_version, engagement_id FROM health_healthsnapshot WHERE date = current_date;
\echo '6. The flags.'
INSERT INTO floor_flag SELECT * FROM health_flag;
TRUNCATE floor_flag;
INSERT INTO floor_flag SELECT * FROM health_flag;
TRUNCATE floor_flag;
INSERT INTO floor_flag SELECT * FROM health_flag;
TRUNCATE floor_flag;
INSERT INTO floor_flag SELECT * FROM health_flag;
ROLLBACK;
