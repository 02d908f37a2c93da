-- Who may see which patient: clinicians see only the patients granted to them.
create table patient_grants (
    patient_id uuid        not null references patients (id),
    username   text        not null,
    granted_by text        not null,
    granted_at timestamptz not null,
    primary key (patient_id, username)
);
create index patient_grants_by_username on patient_grants (username, patient_id);

-- Every call on patient data, allowed or denied. Append-only: no health data, file names or tokens.
create table audit_log (
    id             uuid        primary key,
    at             timestamptz not null,
    actor          text        not null,
    roles          text        not null,
    action         text        not null,
    outcome        text        not null,
    status         int         not null,
    patient_id     uuid,
    resource_type  text,
    resource_id    text,
    client_address text,
    request_id     text
);
create index audit_log_by_time on audit_log (at, id);
create index audit_log_by_actor on audit_log (actor, at, id);
create index audit_log_by_patient on audit_log (patient_id, at, id);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_log_no_update_or_delete before update or delete on audit_log
    for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only();

-- The API request an outbox message came from: sent on as a Kafka header, for the logs.
alter table outbox add column request_id text;

-- The application's role, when it is not the one that runs the migrations: data rights on every table,
-- but only read and append on the audit log, and nothing on the migration history.
do $$
begin
    if exists (select 1 from pg_roles where rolname = '${appRole}') and '${appRole}' <> current_user then
        execute format('grant usage on schema public to %I', '${appRole}');
        execute format('grant select, insert, update, delete on all tables in schema public to %I', '${appRole}');
        execute format('grant usage, select on all sequences in schema public to %I', '${appRole}');
        execute format('alter default privileges in schema public grant select, insert, update, delete on tables to %I', '${appRole}');
        execute format('alter default privileges in schema public grant usage, select on sequences to %I', '${appRole}');
        execute format('revoke update, delete, truncate on audit_log from %I', '${appRole}');
        execute format('revoke all on flyway_schema_history from %I', '${appRole}');
    end if;
end
$$;
