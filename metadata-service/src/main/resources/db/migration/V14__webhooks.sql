-- Webhooks: endpoints of other systems (a PACS bridge, an analysis pipeline) that are sent the change feed as it
-- grows, in feed order, signed, at least once. Each keeps its own cursor in the feed; a batch sent and not yet
-- acknowledged is kept as its id and the number of feed rows it covers, so a retry sends the same changes under
-- the same id. A lease (lease_token, lease_until) lets one metadata-service instance at a time deliver a webhook
-- without a transaction held open while the receiver answers.
create table webhooks (
    id              uuid primary key,
    url             text        not null,
    -- the signing key (Standard Webhooks' whsec_ form); shown to the admin once, at creation
    secret          text        not null,
    -- only this patient's changes (null: every patient's)
    patient_id      uuid references patients (id),
    -- only these change types (null: every type)
    types           text[],
    created_by      text        not null,
    created_at      timestamptz not null,
    -- where the next batch starts: an opaque cursor of the change feed
    feed_cursor     text        not null,
    batch_id        uuid,
    batch_rows      int,
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null,
    lease_token     uuid,
    lease_until     timestamptz,
    delivered_at    timestamptz,
    failing_since   timestamptz,
    last_error      text,
    -- the feed was pruned past the cursor: changes were missed, nothing more is sent
    disabled_at     timestamptz
);
create index webhooks_due_idx on webhooks (next_attempt_at) where disabled_at is null;
