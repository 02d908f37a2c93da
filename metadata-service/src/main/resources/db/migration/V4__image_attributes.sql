-- What the workers read from the bytes: width, height, EXIF capture time and device.
alter table images add column attributes jsonb not null default '{}'::jsonb;
