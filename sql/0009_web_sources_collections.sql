-- Documents fetched from the web, and collections.
-- A web document is named by its normalised URL; it keeps the page title, the validators its
-- server sent (for `kb sync`), when it was last fetched, and how it came in: a URL given
-- explicitly, a sitemap (whose URL sync reads again for new pages) or a crawl.
alter table documents drop constraint documents_type_check;
alter table documents add constraint documents_type_check check (type in ('pdf', 'markdown', 'text', 'html'));
alter table documents add column url text;
alter table documents add column title text;
alter table documents add column etag text;
alter table documents add column last_modified text;
alter table documents add column fetched_at timestamptz;
alter table documents add column source_kind text check (source_kind in ('url', 'sitemap', 'crawl'));
alter table documents add column source_url text;
create index documents_url_idx on documents (url) where url is not null;

-- Every document belongs to one collection; a channel with collections retrieves only from them
-- (null: from every collection).
alter table documents add column collection text not null default 'default' check (collection ~ '^[a-z0-9-]{1,32}$');
create index documents_collection_idx on documents (collection);
alter table channels add column collections text[];
