-- Indexes for lookups that were slow at a million cases and twenty million events.
-- A case's timeline and dossier read its events with
--   WHERE object_type = 'case' AND object_id = $1 ORDER BY seq.
-- With only (object_id, seq) the planner preferred walking the primary key in seq order
-- and filtering: 5 s on 20,000,000 events. This index answers it directly (0.1 ms).
CREATE INDEX audit_events_object_type_idx ON audit_events (object_type, object_id, seq);

-- A user's unsigned drafts (dashboard, determinations page): without it, a sequential scan
-- of every determination (0.3 s at 350,000 determinations).
CREATE INDEX determinations_drafter_open_idx ON determinations (drafted_by, updated_at DESC) WHERE status <> 'signed';
