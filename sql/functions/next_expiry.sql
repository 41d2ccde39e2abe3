create or replace function partkeeper.next_expiry(p_parent regclass)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The partition of p_parent that expires next under its retention, and when:
 * {"partition": schema-qualified name, "at": its upper bound + retention, timestamptz}. The oldest
 * partition by upper bound expires first (retention retires oldest first). Only the partitions
 * retention may retire count (retention_scope, as in expired_partitions()): a partition restored
 * below the retired range never expires, so it is never named here. NULL without retention, for an
 * unregistered table, or without any such partition. Reads the catalog only; takes no lock. The one
 * rule behind maintain_table()'s next_expiry, status() and the idle run's inputs.
 */
declare
    v_retention interval := (select c.retention from partkeeper.config c where c.parent = p_parent);
begin
    if v_retention is null then
        return null;
    end if;
    return (select jsonb_build_object('partition', partkeeper.qualified_name(b.partition), 'at', b.upper + v_retention)
              from partkeeper.retention_scope(p_parent) b
             order by b.upper limit 1);
end
$$;
