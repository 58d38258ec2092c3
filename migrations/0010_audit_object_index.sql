-- A case's timeline and dossier read its events with
--   WHERE object_type = 'case' AND object_id = $1 ORDER BY seq.
-- With only (object_id, seq) the planner preferred walking the primary key in seq order
-- and filtering: 5 s on 20,000,000 events. This index answers it directly (0.1 ms).
CREATE INDEX audit_events_object_type_idx ON audit_events (object_type, object_id, seq);
