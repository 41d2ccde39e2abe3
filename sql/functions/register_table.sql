create or replace function partkeeper.register_table(p_parent regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Put p_parent under partkeeper's management with the default settings (change them with
 * configure) and give it its safety net (ensure_default: DEFAULT partition + trigger).
 * Existing partitions and rows are left as they are; partitions that are not whole months of the
 * table's interval and zone are listed under "misaligned" (maintenance works around them and warns).
 * Idempotent: registering again keeps the settings and only re-ensures the safety net.
 * Runs with the caller's rights: the caller must own the table (PK007) and be allowed to write
 * partkeeper.config (the installing role is). PK002/PK003 for tables partkeeper cannot manage.
 * Returns {"table", "registered" (true when new), "config", "default_partition", "misaligned"}.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_new boolean;
    v_cfg partkeeper.config;
    v_default jsonb;
begin
    if not pg_has_role(current_user, v_info.owner::oid, 'USAGE') then
        raise exception 'role % does not own %', current_user, p_parent
            using errcode = 'PK007', hint = format('Register it as its owner (%s).', v_info.owner);
    end if;

    insert into partkeeper.config (parent) values (p_parent) on conflict (parent) do nothing;
    v_new := found;
    v_cfg := partkeeper.config_for(p_parent);
    if v_new then
        perform partkeeper.write_log(p_parent::text, 'register', null, to_jsonb(v_cfg));
    end if;
    v_default := partkeeper.ensure_default(p_parent);

    return jsonb_build_object(
        'table', p_parent::text,
        'registered', v_new,
        'config', to_jsonb(v_cfg),
        'default_partition', v_default ->> 'default_partition',
        'misaligned', coalesce((
            select jsonb_agg(b.partition::text order by b.lower)
              from partkeeper.partition_bounds(p_parent) b
             where not b.is_default
               and ((partkeeper.table_period(p_parent, b.lower)).lower <> b.lower
                    or (partkeeper.table_period(p_parent, b.upper)).lower <> b.upper)), '[]'));
end
$$;
