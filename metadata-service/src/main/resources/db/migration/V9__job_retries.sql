-- A job may be retried once it failed for a passing cause (the object store stayed down past the worker's retry
-- budget): the retry is a new job of the same image that reads the same staged bytes, and names the job it retries.
-- At most one retry per job; a retry that fails again may be retried in turn.
alter table jobs add column retry_of uuid references jobs (id);
create unique index jobs_retry_of_idx on jobs (retry_of) where retry_of is not null;
-- the jobs that await a retry, oldest failure first, for an operator's retry of them all after an outage
create index jobs_retryable_idx on jobs (updated_at) where status = 'FAILED' and error_retryable;
-- the failed jobs newest first, for GET /v1/jobs?status=FAILED (failures are few: a small index)
create index jobs_failed_idx on jobs (created_at, id) where status = 'FAILED';
