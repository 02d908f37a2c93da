-- When an image was taken, as its bytes tell it: a DICOM file's StudyDate (YYYYMMDD), else a photo's EXIF capture
-- time (its date, as the camera recorded it). Null for anything else, and for a value that is no calendar date
-- (20241350, 2023-02-30): never an error, since the values come from the files. An expression of the attributes the
-- workers record, so that every image stored or derived again has it without a write of its own, and searching by it
-- (GET /v1/images?takenFrom=&takenTo=) uses an index.
create or replace function image_taken_on(attributes jsonb) returns date
    language plpgsql immutable parallel safe as $$
declare
    d text := coalesce(attributes -> 'dicom' ->> 'StudyDate',
                       translate(substr(attributes -> 'exif' ->> 'captureTime', 1, 10), '-', ''));
    y int;
    m int;
    dd int;
    first date;
begin
    if d is null or d !~ '^[0-9]{8}$' then
        return null;
    end if;
    y := substr(d, 1, 4)::int;
    m := substr(d, 5, 2)::int;
    dd := substr(d, 7, 2)::int;
    if y < 1 or m not between 1 and 12 or dd not between 1 and 31 then
        return null;
    end if;
    first := make_date(y, m, 1);
    if first + (dd - 1) >= (first + interval '1 month')::date then
        return null;
    end if;
    return first + (dd - 1);
end $$;

-- Built here as the migration runs, holding writes to images back meanwhile (Flyway's lock and CREATE INDEX
-- CONCURRENTLY deadlock); on a large table, build it CONCURRENTLY by hand before the upgrade (README, "Upgrading"; the
-- function may be made by hand first, hence "or replace").
create index if not exists images_taken_idx on images (image_taken_on(attributes), uploaded_at desc, id desc)
    where status <> 'DELETED';
