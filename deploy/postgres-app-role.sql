-- The role pressgate runs as on PostgreSQL: it can append to the audit log but cannot
-- change, delete or truncate audit entries, nor switch off or drop the triggers that refuse
-- it (only the tables' owner can). Run this as the owner of pressgate's tables (the role
-- that runs `pressgate db upgrade`), after every upgrade; create the role once before:
--   CREATE ROLE pressgate_app LOGIN PASSWORD '...';
GRANT USAGE ON SCHEMA public TO pressgate_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pressgate_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO pressgate_app;
-- The audit log: append only. The head row takes UPDATE (each append moves it forward;
-- its trigger refuses anything else) but never DELETE.
REVOKE UPDATE, DELETE, TRUNCATE ON auditentry FROM pressgate_app;
REVOKE DELETE, TRUNCATE ON audithead FROM pressgate_app;
-- The schema version is the owner's business.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM pressgate_app;
