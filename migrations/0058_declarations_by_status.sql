-- no-transaction
-- The declaration list filtered by status (the review's queues: received, questions asked,
-- deficient), newest first, as one range of this index in the list's order. Built
-- concurrently; one statement per file.
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS declarations_status_received_idx
    ON declarations (status, received_at DESC, id DESC);
