create or replace function partkeeper.attach_locks(p_parent regclass, p_parent_mode text)
returns partkeeper.statement[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The LOCK TABLE statements add_partition runs before it attaches a partition to p_parent, in the
 * order they must be taken: first, in SHARE ROW EXCLUSIVE mode and by OID, every other table that
 * ATTACH PARTITION itself locks in that mode (the tables whose foreign keys reference p_parent, and
 * the tables p_parent's foreign keys reference: ATTACH clones those keys), then p_parent in
 * p_parent_mode ('share' or 'access exclusive'; 'share' becomes 'share row exclusive' when a
 * foreign key of p_parent references p_parent itself, which ATTACH locks so).
 * Why: an application transaction locks those tables in its own order (a room's counter, then a
 * message; a message, then a reaction to it). Were ATTACH to ask for them last, after partkeeper
 * already held p_parent, a writer that waited on p_parent while holding one of them would close a
 * cycle, and PostgreSQL's deadlock check cancels whichever session has waited longest: the writer.
 * Taken first, with lock_timeout kept below deadlock_timeout (add_partition), partkeeper is the
 * one that gives up and retries.
 * A table the owner of p_parent may not lock (LOCK TABLE in these modes needs UPDATE, DELETE or
 * TRUNCATE on it, or MAINTAIN on PostgreSQL 17+) is left to ATTACH: p_parent's owner runs these
 * statements. Returns statements built from regclass; reads the catalog only.
 */
declare
    v_owner oid := (select c.relowner from pg_class c where c.oid = p_parent);
    v_mode text := p_parent_mode;
begin
    if p_parent_mode not in ('share', 'access exclusive') then
        raise exception 'lock mode % is not one add_partition takes', p_parent_mode using errcode = '22023';
    end if;
    if p_parent_mode = 'share' and exists (select from pg_constraint k
                                            where k.contype = 'f' and k.conrelid = p_parent and k.confrelid = p_parent) then
        v_mode := 'share row exclusive';
    end if;
    return array(
        select (format('lock table %s in share row exclusive mode', t.rel::regclass), false)::partkeeper.statement
          from (select distinct case when k.conrelid = p_parent then k.confrelid else k.conrelid end as rel
                  from pg_constraint k
                 where k.contype = 'f' and (k.conrelid = p_parent or k.confrelid = p_parent)
                   and k.conparentid = 0) t
         where t.rel <> p_parent
           and (has_table_privilege(v_owner, t.rel, 'UPDATE, DELETE, TRUNCATE')
                or case when current_setting('server_version_num')::int >= 170000
                        then has_table_privilege(v_owner, t.rel, 'MAINTAIN') else false end)
         order by t.rel)
        || (format('lock table %s in %s mode', p_parent, v_mode), false)::partkeeper.statement;
end
$$;
