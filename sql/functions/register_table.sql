create or replace function partkeeper.register_table(p_parent regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Put p_parent under partkeeper's management with the default settings (change them with
 * configure) and give it its safety net (ensure_default: its DEFAULT partition).
 * Existing partitions and rows are left as they are; partitions that are not whole months of the
 * table's interval and zone are listed under "misaligned" (maintenance works around them and warns).
 * Idempotent: registering again keeps the settings and only re-ensures the safety net.
 * Runs with the caller's rights: the caller must own the table, be a member of the owning role or
 * a superuser (may_maintain; PK007 otherwise), and have partkeeper's rights (the installing role, or
 * a role given partkeeper.grant_maintenance). PK002/PK003 for tables partkeeper cannot manage.
 * Returns {"table", "registered" (true when new), "config", "default_partition", "misaligned"}.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_new boolean;
    v_cfg partkeeper.config;
    v_default jsonb;
begin
    if not partkeeper.may_maintain(p_parent) then
        raise exception 'role % does not own %', current_user, partkeeper.qualified_name(p_parent)
            using errcode = 'PK007', hint = format('Register it as its owner (%s), a member of that role, or a superuser.', v_info.owner);
    end if;

    insert into partkeeper.config (parent, table_name) values (p_parent, partkeeper.qualified_name(p_parent)) on conflict (parent) do nothing;
    v_new := found;
    v_cfg := partkeeper.config_for(p_parent);
    if v_new then
        perform partkeeper.write_log(p_parent, 'register', null, to_jsonb(v_cfg));
    end if;
    v_default := partkeeper.ensure_default(p_parent);

    return jsonb_build_object(
        'table', partkeeper.qualified_name(p_parent),
        'registered', v_new,
        'config', to_jsonb(v_cfg),
        'default_partition', v_default ->> 'default_partition',
        'misaligned', coalesce((
            select jsonb_agg(partkeeper.qualified_name(b.partition) order by b.lower)
              from partkeeper.partition_bounds(p_parent) b
             where not b.is_default
               and ((partkeeper.table_period(p_parent, b.lower)).lower <> b.lower
                    or (partkeeper.table_period(p_parent, b.upper)).lower <> b.upper)), '[]'));
end
$$;
