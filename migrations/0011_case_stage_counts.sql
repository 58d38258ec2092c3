-- The dashboard's per-stage counts, kept in the same transaction as every change to cases:
-- counting a million cases took about a second (0.3 s as an index-only scan); reading
-- these rows takes microseconds. Analysts' counts add their own restricted cases, which
-- are few (see src/cases/db.rs, count_by_stage).
CREATE TABLE case_stage_counts (
    stage      case_stage NOT NULL,
    restricted boolean NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (stage, restricted)
);
INSERT INTO case_stage_counts (stage, restricted, n)
    SELECT stage, restricted, count(*) FROM cases GROUP BY stage, restricted;

-- One aggregated change per statement (a COPY of a million rows included), applied in key
-- order so that concurrent transactions take the counter rows' locks in the same order.
CREATE FUNCTION case_stage_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_stage_counts AS c (stage, restricted, n)
            SELECT stage, restricted, count(*) FROM new_rows GROUP BY stage, restricted ORDER BY stage, restricted
            ON CONFLICT (stage, restricted) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO case_stage_counts AS c (stage, restricted, n)
            SELECT stage, restricted, sum(d) FROM (
                SELECT stage, restricted, -1 AS d FROM old_rows
                UNION ALL
                SELECT stage, restricted, 1 AS d FROM new_rows
            ) x GROUP BY stage, restricted HAVING sum(d) <> 0 ORDER BY stage, restricted
            ON CONFLICT (stage, restricted) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO case_stage_counts AS c (stage, restricted, n)
            SELECT stage, restricted, -count(*) FROM old_rows GROUP BY stage, restricted ORDER BY stage, restricted
            ON CONFLICT (stage, restricted) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_stage_counts_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_stage_counts_apply();
CREATE TRIGGER cases_stage_counts_update AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_stage_counts_apply();
CREATE TRIGGER cases_stage_counts_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION case_stage_counts_apply();

REVOKE ALL ON case_stage_counts FROM icts_app;
GRANT SELECT, INSERT, UPDATE ON case_stage_counts TO icts_app;
