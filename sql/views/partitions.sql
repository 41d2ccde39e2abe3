-- Every partition of every managed table, for monitoring: bounds, estimated rows and bytes, under
-- schema-qualified names. Reads the catalog and statistics only (reltuples, relation sizes); takes
-- no lock on the tables and needs no privilege on them. rows_estimate is NULL for a partition
-- never vacuumed or analyzed. On Citus both are summed over the partition's shards (rows_estimate,
-- relation_size). Tables registered but dropped do not appear (see health()).
create or replace view partkeeper.partitions as
select partkeeper.qualified_name(c.parent)                   as table_name,
       partkeeper.qualified_name(b.partition)                as partition_name,
       b.is_default,
       b.lower,
       b.upper,
       partkeeper.rows_estimate(b.partition)                 as rows_estimate,
       partkeeper.relation_size(b.partition)                 as bytes
  from partkeeper.config c
 cross join lateral partkeeper.partition_bounds(c.parent) b
 where exists (select from pg_catalog.pg_class x where x.oid = c.parent);

comment on view partkeeper.partitions is 'partkeeper: partitions of managed tables with bounds, estimated rows and bytes';
