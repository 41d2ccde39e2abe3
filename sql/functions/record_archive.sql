create or replace function partkeeper.record_archive(
    p_partition regclass, p_location text, p_format text, p_rows bigint, p_bytes bigint, p_checksum text)
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Record that partition p_partition was archived to p_location and the archive was verified by
 * reading it back (row count and checksum): `partkeeper archive` calls this only after that check.
 * The row count must still equal the partition's (PK006 otherwise: rows changed since the archive
 * was written, so it is not a copy of the partition any more). Only a recorded archive lets
 * retention drop a partition of a table with require_archive. Returns the archive's id.
 * Errors: PK001 NULL or negative values, PK003 when p_partition is not a range partition of a
 * table partkeeper can manage, PK007 when the caller may not maintain that table. Runs with the
 * caller's rights; the partition is counted as the table's owner (query_as_owner).
 */
declare
    v_parent regclass;
    v_bounds record;
    v_count bigint;
    v_id bigint;
begin
    if p_partition is null or p_location is null or p_format is null or p_rows is null or p_rows < 0
       or p_bytes is null or p_bytes < 0 or p_checksum is null then
        raise exception 'every argument is required and counts cannot be negative'
            using errcode = 'PK001', hint = 'Archives are recorded by `partkeeper archive`.';
    end if;
    select i.inhparent into v_parent from pg_inherits i where i.inhrelid = p_partition;
    if v_parent is null then
        raise exception '% is not a partition', p_partition using errcode = 'PK003', hint = 'Archive a partition of a managed table.';
    end if;
    perform partkeeper.table_info(v_parent);
    if not partkeeper.may_maintain(v_parent) then
        raise exception 'role % may not record archives of %', current_user, partkeeper.qualified_name(v_parent)
            using errcode = 'PK007', hint = 'Archive as the table''s owner, a member of the owning role, or a superuser.';
    end if;
    select b.lower, b.upper into v_bounds from partkeeper.partition_bounds(v_parent) b where b.partition = p_partition and not b.is_default;
    if not found then
        raise exception '% is the DEFAULT partition of %; only range partitions are archived', p_partition, v_parent
            using errcode = 'PK003', hint = 'Let maintenance place the rows of the DEFAULT partition first.';
    end if;
    v_count := (partkeeper.query_as_owner(v_parent, format('select count(*) as n from only %s', p_partition)) -> 0 ->> 'n')::bigint;
    if v_count <> p_rows then
        raise exception 'the archive of % holds % rows, the partition now holds %', p_partition, p_rows, v_count
            using errcode = 'PK006', hint = 'Rows changed since the archive was written; archive it again.';
    end if;
    insert into partkeeper.archives (parent, table_name, partition_name, lower, upper, location, format, rows, bytes, checksum, partkeeper_version)
    values (v_parent, partkeeper.qualified_name(v_parent), partkeeper.qualified_name(p_partition), v_bounds.lower, v_bounds.upper, p_location, p_format, p_rows, p_bytes, p_checksum, partkeeper.version())
    returning id into v_id;
    perform partkeeper.write_log(v_parent, 'archive', partkeeper.qualified_name(p_partition),
        jsonb_build_object('archive_id', v_id, 'location', p_location, 'rows', p_rows, 'bytes', p_bytes, 'checksum', p_checksum));
    return v_id;
end
$$;
