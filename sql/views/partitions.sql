-- Every partition of every managed table, for monitoring: bounds, estimated rows and bytes.
-- Reads the catalog and statistics only (reltuples, relation sizes); takes no lock on the tables.
-- rows_estimate is NULL for a partition never vacuumed or analyzed.
create or replace view partkeeper.partitions as
select c.parent::text                                        as table_name,
       b.partition::text                                     as partition_name,
       b.is_default,
       b.lower,
       b.upper,
       nullif(greatest(p.reltuples, -1), -1)::bigint         as rows_estimate,
       pg_catalog.pg_total_relation_size(b.partition)        as bytes
  from partkeeper.config c
 cross join lateral partkeeper.partition_bounds(c.parent) b
  join pg_catalog.pg_class p on p.oid = b.partition
 where exists (select from pg_catalog.pg_class x where x.oid = c.parent);

comment on view partkeeper.partitions is 'partkeeper: partitions of managed tables with bounds, estimated rows and bytes';
