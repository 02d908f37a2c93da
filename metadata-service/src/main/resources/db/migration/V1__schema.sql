-- The metadata-service owns this schema; no other process writes it.

create table patients (
    id         uuid primary key,
    name       varchar(200) not null,
    username   varchar(64)  not null,
    created_at timestamptz  not null,
    constraint patients_username_key unique (username)
);
-- keyset pagination of the patient list
create index patients_created_idx on patients (created_at, id);

create table images (
    id                uuid primary key,
    patient_id        uuid         not null references patients (id),
    name              varchar(255),
    description       varchar(4000),
    status            varchar(16)  not null,
    original_filename varchar(255),
    content_type      varchar(255) not null,
    size_bytes        bigint       not null,
    sha256            char(64)     not null,
    bucket            varchar(63),
    object_key        varchar(1024),
    uploaded_at       timestamptz  not null,
    stored_at         timestamptz,
    constraint images_status_check check (status in ('PENDING', 'AVAILABLE', 'FAILED', 'DELETED'))
);
-- a patient's images, newest first, keyset-paginated
create index images_patient_uploaded_idx on images (patient_id, uploaded_at desc, id desc);

create table tags (
    id   bigserial primary key,
    name varchar(64) not null,
    constraint tags_name_key unique (name)
);

create table image_tags (
    image_id uuid   not null references images (id) on delete cascade,
    tag_id   bigint not null references tags (id),
    primary key (image_id, tag_id)
);
create index image_tags_tag_idx on image_tags (tag_id, image_id);

create table jobs (
    id               uuid primary key,
    type             varchar(16)  not null,
    status           varchar(16)  not null,
    patient_id       uuid         not null references patients (id),
    image_id         uuid         not null references images (id),
    progress         smallint     not null default 0,
    attempts         integer      not null default 0,
    event_count      integer      not null default 0,
    staging_key      varchar(128) not null,
    idempotency_key  varchar(255),
    error_code       varchar(64),
    error_message    varchar(1000),
    error_retryable  boolean,
    created_at       timestamptz  not null,
    updated_at       timestamptz  not null,
    constraint jobs_status_check check (status in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    constraint jobs_idempotency_key unique (patient_id, idempotency_key)
);
create index jobs_image_idx on jobs (image_id);
-- jobs still in flight, for the reconciler and for operators
create index jobs_open_idx on jobs (updated_at) where status in ('QUEUED', 'RUNNING');

create table job_events (
    job_id   uuid        not null references jobs (id),
    seq      integer     not null,
    event_id uuid        not null,
    type     varchar(32) not null,
    at       timestamptz not null,
    detail   jsonb       not null default '{}'::jsonb,
    primary key (job_id, seq),
    constraint job_events_event_id_key unique (event_id)
);

-- Transactional outbox: written in the same transaction as the state it announces, published by the relay.
create table outbox (
    id          bigserial primary key,
    topic       varchar(249) not null,
    message_key varchar(64)  not null,
    payload     bytea        not null,
    created_at  timestamptz  not null
);
