-- Finding a patient by a part of their name or username (GET /v1/patients?q=…), case-insensitively: trigram indexes
-- (pg_trgm, from V2) serve "lower(...) like '%…%'" for three characters and more.
create index patients_name_trgm_idx on patients using gin (lower(name) gin_trgm_ops);
create index patients_username_trgm_idx on patients using gin (lower(username) gin_trgm_ops);
