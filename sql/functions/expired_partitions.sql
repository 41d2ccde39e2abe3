create or replace function partkeeper.expired_partitions(p_parent regclass)
returns table (partition regclass, lower timestamptz, upper timestamptz, retirable boolean, reason_code text, reason text)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The partitions of p_parent that retention expires now, oldest first: wholly older than
 * partkeeper.now() minus the table's retention, never the current period (so never the horizon)
 * nor the DEFAULT partition, nor one below the newest range already retired (config.retired_before:
 * restored from an archive, it stays until the DBA drops it); those last two are retention_scope's
 * rule, which next_expiry() reads too. Retention retires oldest first and never leaves a hole: once one is
 * kept, every newer one is kept too (reason_code 'older_kept'). With require_archive, one is kept
 * unless a recorded archive (partkeeper.archives) has its bounds and exactly the rows it holds now:
 *   'archive_missing'  no archive is recorded: `partkeeper archive` it;
 *   'archive_smaller'  the archive holds fewer rows (rows arrived since): archive it again;
 *   'archive_larger'   the archive holds more rows (rows were deleted since): the archive stays the
 *                      better copy; re-archiving would lose those rows, so the hint says to check
 *                      first and replace it only explicitly.
 * Empty without retention. Counts the rows of an expired partition that has an archive, as the
 * table's owner (query_as_owner); volatile only for that reason.
 */
declare
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_now timestamptz := partkeeper.now();
    v_current timestamptz := (partkeeper.table_period(p_parent, v_now)).lower;
    v_rows bigint;
    v_count bigint;
    v_kept boolean := false;
    r record;
begin
    if v_cfg.retention is null then
        return;
    end if;
    for r in
        select b.partition, b.lower, b.upper from partkeeper.retention_scope(p_parent) b
         where b.upper <= v_now - v_cfg.retention and b.upper <= v_current
         order by b.lower
    loop
        partition := r.partition;
        lower := r.lower;
        upper := r.upper;
        retirable := true;
        reason_code := null;
        reason := null;
        if v_kept then
            retirable := false;
            reason_code := 'older_kept';
            reason := 'an older expired partition is kept; retention retires oldest first';
        elsif v_cfg.require_archive then
            select a.rows into v_rows from partkeeper.archives a
             where a.parent = p_parent and a.lower = r.lower and a.upper = r.upper
             order by a.verified_at desc limit 1;
            if not found then
                retirable := false;
                reason_code := 'archive_missing';
                reason := 'the table requires an archive and none is recorded: partkeeper archive ' || partkeeper.qualified_name(r.partition);
            else
                v_count := (partkeeper.query_as_owner(p_parent, format('select count(*) as n from only %s', r.partition)) -> 0 ->> 'n')::bigint;
                if v_count > v_rows then
                    retirable := false;
                    reason_code := 'archive_smaller';
                    reason := format('its archive holds %s rows, the partition %s (rows arrived since): archive it again', v_rows, v_count);
                elsif v_count < v_rows then
                    retirable := false;
                    reason_code := 'archive_larger';
                    reason := format('its archive holds %s rows, more than the %s the partition holds now (rows were deleted since it was archived); '
                                     'the archive is kept as it is: check why, then drop the partition by hand or replace the archive explicitly '
                                     '(partkeeper archive --force --allow-fewer-rows)', v_rows, v_count);
                end if;
            end if;
        end if;
        v_kept := v_kept or not retirable;
        return next;
    end loop;
end
$$;
