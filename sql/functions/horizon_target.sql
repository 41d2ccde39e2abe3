create or replace function partkeeper.horizon_target(p_parent regclass, p_at timestamptz)
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * Where partitions must reach for p_parent at p_at: the end of the period holding p_at and of the
 * `premake` periods after it (table_period). Maintenance makes them; status and health compare
 * the horizon with it. NULL for NULL p_at.
 */
declare
    v_upper timestamptz := (partkeeper.table_period(p_parent, p_at)).upper;
begin
    for i in 1 .. (partkeeper.config_for(p_parent)).premake loop
        v_upper := (partkeeper.table_period(p_parent, v_upper)).upper;
    end loop;
    return v_upper;
end
$$;
