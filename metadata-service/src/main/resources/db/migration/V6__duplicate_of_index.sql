-- The foreign key images.duplicate_of needs an index on its referencing side: without it, removing image rows
-- (the search benchmark's clean-up) checks every remaining row once per removed row.
create index images_duplicate_of_idx on images (duplicate_of) where duplicate_of is not null;
