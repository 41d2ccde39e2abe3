create or replace function partkeeper.ddl_locks(p_parent regclass, p_operation text)
returns partkeeper.statement[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The LOCK TABLE statements partkeeper runs before the partition DDL p_operation on p_parent: every
 * lock that DDL takes, asked for up front and in one burst, before any work is done.
 *   'attach' (ATTACH PARTITION of an empty table): p_parent in SHARE (SHARE ROW EXCLUSIVE when a
 *     foreign key of p_parent references p_parent itself), the DEFAULT partition in ACCESS
 *     EXCLUSIVE, and the tables foreign keys link to p_parent (those whose keys reference it and
 *     those its keys reference: ATTACH clones those keys) in SHARE ROW EXCLUSIVE;
 *   'move' (rows out of the DEFAULT partition, then ATTACH): the same, p_parent in ACCESS EXCLUSIVE;
 *   'detach' (DETACH PARTITION): p_parent and the DEFAULT partition in ACCESS EXCLUSIVE, the tables
 *     whose keys reference p_parent in ACCESS EXCLUSIVE, the tables p_parent's keys reference in
 *     SHARE ROW EXCLUSIVE;
 *   'drop' (DROP TABLE of a partition): p_parent and the DEFAULT partition in ACCESS EXCLUSIVE.
 * Order: the referencing tables, p_parent, its DEFAULT partition, the referenced tables (each group
 * by OID), the order in which foreign-key checks lock them in the application's writes: an insert
 * into message_reactions holds that table and then checks the message; an insert of a message
 * holds the table and then checks its room. Writers that follow it never hold a table partkeeper
 * asks for later while waiting for one it already holds.
 * Why up front: were the DDL to ask for a table only after a long move under p_parent's lock, a
 * writer that had waited on p_parent all that time while holding that table (a room's counter,
 * then a message) would close a cycle, and PostgreSQL's deadlock check cancels the session that
 * has waited longest: the writer. Asked for in one burst, each wait under a lock_timeout capped so
 * that together they end before deadlock_timeout (callers), no writer in a cycle with partkeeper
 * can have waited longer than partkeeper: partkeeper's wait ends first, it lets go of everything
 * and retries.
 * A table the owner of p_parent may not lock (these modes need UPDATE, DELETE or TRUNCATE on it, or
 * MAINTAIN on PostgreSQL 17+) is left to the DDL: p_parent's owner runs these statements.
 * Returns statements built from regclass. Reads the catalog only. 22023 for an unknown p_operation.
 */
declare
    v_owner oid := (select c.relowner from pg_class c where c.oid = p_parent);
    v_default regclass := (select nullif(pt.partdefid, 0)::regclass from pg_partitioned_table pt where pt.partrelid = p_parent);
    v_mode text;
begin
    if p_operation is null or p_operation not in ('attach', 'move', 'detach', 'drop') then
        raise exception 'partition operation % is not one of attach, move, detach, drop', coalesce(p_operation, 'NULL')
            using errcode = '22023';
    end if;
    v_mode := case when p_operation <> 'attach' then 'access exclusive'
                   when exists (select from pg_constraint k where k.contype = 'f' and k.conrelid = p_parent and k.confrelid = p_parent)
                   then 'share row exclusive'
                   else 'share' end;
    -- referencing tables, p_parent, its DEFAULT partition, referenced tables: the order in which a
    -- foreign key's checks lock them (a reaction's insert holds message_reactions and then checks
    -- the message; a message's insert holds the table and then checks its room)
    return array(select (format('lock table %s in %s mode', t.rel, t.mode), false)::partkeeper.statement
                   from (select t.rel::regclass as rel, t.mode, t.side
                           from (select k.conrelid as rel, case when p_operation = 'detach' then 'access exclusive'
                                                                else 'share row exclusive' end as mode, 1 as side
                                   from pg_constraint k
                                  where p_operation <> 'drop' and k.contype = 'f' and k.confrelid = p_parent and k.conparentid = 0
                                 union
                                 select k.confrelid, 'share row exclusive', 3
                                   from pg_constraint k
                                  where p_operation <> 'drop' and k.contype = 'f' and k.conrelid = p_parent and k.conparentid = 0
                                    and k.confrelid not in (select k2.conrelid from pg_constraint k2
                                                             where k2.contype = 'f' and k2.confrelid = p_parent and k2.conparentid = 0)) t
                          where t.rel <> p_parent
                            and (has_table_privilege(v_owner, t.rel, 'UPDATE, DELETE, TRUNCATE')
                                 or case when current_setting('server_version_num')::int >= 170000
                                         then has_table_privilege(v_owner, t.rel, 'MAINTAIN') else false end)
                         union all
                         select p_parent, v_mode, 2
                         union all
                         select v_default, 'access exclusive', 2 where v_default is not null) t
                  order by t.side, t.rel = v_default, t.rel::oid);
end
$$;
