create or replace function partkeeper.expired_partitions(p_parent regclass)
returns table (partition regclass, lower timestamptz, upper timestamptz, retirable boolean, reason text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The partitions of p_parent that retention expires now: wholly older than partkeeper.now() minus
 * the table's retention, and never the current period (so never the horizon) nor the DEFAULT
 * partition. retirable is false, with the reason, when the table requires archives and no recorded
 * archive (partkeeper.archives) has these bounds and exactly the rows the partition holds now.
 * Empty without retention. Oldest first. Counts the rows of an expired partition that has an archive.
 */
declare
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_now timestamptz := partkeeper.now();
    v_current timestamptz := (partkeeper.table_period(p_parent, v_now)).lower;
    v_rows bigint;
    v_count bigint;
    r record;
begin
    if v_cfg.retention is null then
        return;
    end if;
    for r in
        select b.partition, b.lower, b.upper from partkeeper.partition_bounds(p_parent) b
         where not b.is_default and isfinite(b.upper) and b.upper <= v_now - v_cfg.retention and b.upper <= v_current
         order by b.lower
    loop
        partition := r.partition;
        lower := r.lower;
        upper := r.upper;
        retirable := true;
        reason := null;
        if v_cfg.require_archive then
            select a.rows into v_rows from partkeeper.archives a
             where a.parent = p_parent and a.lower = r.lower and a.upper = r.upper
             order by a.verified_at desc limit 1;
            if not found then
                retirable := false;
                reason := 'the table requires an archive and none is recorded (partkeeper archive)';
            else
                execute format('select count(*) from only %s', r.partition) into v_count;
                if v_count <> v_rows then
                    retirable := false;
                    reason := format('its archive holds %s rows, the partition %s: archive it again', v_rows, v_count);
                end if;
            end if;
        end if;
        return next;
    end loop;
end
$$;
