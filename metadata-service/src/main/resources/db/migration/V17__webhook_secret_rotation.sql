-- A webhook's secret rotated: the one it replaced still signs each request too, until previous_secret_until, so the
-- receiver can take the new one without a request it cannot verify.
alter table webhooks add column previous_secret text;
alter table webhooks add column previous_secret_until timestamptz;
