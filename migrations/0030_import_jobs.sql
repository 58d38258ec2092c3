-- Imports from the import page run in the background: the upload is checked at once (every
-- problem of the file in one pass), and a file without problems is loaded by a task in one
-- transaction, as before, while this row tells the page how far it has got. The rows come
-- into existence only when that transaction commits: a job that stops (the service
-- restarted) leaves nothing of its file, and its heartbeat shows it stopped.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS import_jobs (
    id           uuid PRIMARY KEY,
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    file_name    text NOT NULL CHECK (length(file_name) <= 300),
    rows         bigint NOT NULL CHECK (rows >= 0),
    done         bigint NOT NULL DEFAULT 0 CHECK (done >= 0 AND done <= rows),
    status       text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    heartbeat_at timestamptz NOT NULL,
    finished_at  timestamptz,
    report       jsonb,
    error        text,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
-- The table is new and empty: nothing waits for this index.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS import_jobs_by_user_idx ON import_jobs (created_by, created_at DESC);
GRANT SELECT, INSERT, UPDATE ON import_jobs TO icts_app;
