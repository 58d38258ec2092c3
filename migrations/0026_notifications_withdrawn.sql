-- A restricted case's notifications are withdrawn from the inboxes of users who may no
-- longer see it (it changed hands, or became restricted): the service deletes them in the
-- transaction of that change (the audit event counts them). Notifications are not the
-- record; the audit log keeps what happened.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

GRANT DELETE ON notifications TO icts_app;
