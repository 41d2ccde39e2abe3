create or replace function partkeeper.move_observers(p_parent regclass,
    out user_triggers jsonb, out referenced boolean, out published boolean, out delete_rules boolean)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * What would see rows being moved out of p_parent's DEFAULT partition, which PostgreSQL can only do
 * as a DELETE there and an INSERT into the new partition; add_partition hides the move from each:
 *  user_triggers: the enabled triggers on the DEFAULT partition that are not foreign-key triggers
 *    (the parent's row triggers cloned onto it, and triggers made on it directly) and fire on
 *    INSERT, DELETE or UPDATE (not those ON TRUNCATE only, which a move cannot fire), as
 *    [{"name", "mode"}] with mode O (origin), A (always) or R (replica): the move disables them and
 *    restores each mode before it commits, so none fires, whatever its kind or mode;
 *  referenced: a foreign key references the table (its ON DELETE action triggers sit on the DEFAULT
 *    partition): the DELETE must run with session_replication_role = replica, or CASCADE would
 *    delete, SET NULL/DEFAULT would change and NO ACTION/RESTRICT would refuse referencing rows;
 *  published: the DEFAULT partition or an ancestor is in a publication (FOR TABLE, FOR TABLES IN
 *    SCHEMA, FOR ALL TABLES): the rows must then be inserted after ATTACH, into a partition, so the
 *    subscriber receives the INSERT as well as the DELETE;
 *  delete_rules: a rewrite rule ON DELETE on the DEFAULT partition would rewrite the move: refused.
 * All false/empty for a table without a DEFAULT partition. Reads the catalog only.
 */
declare
    v_default regclass := (select nullif(pt.partdefid, 0)::regclass from pg_partitioned_table pt where pt.partrelid = p_parent);
begin
    user_triggers := '[]';
    referenced := false;
    published := false;
    delete_rules := false;
    if v_default is null then
        return;
    end if;
    select coalesce(jsonb_agg(jsonb_build_object('name', t.tgname, 'mode', t.tgenabled) order by t.tgname), '[]')
      into user_triggers
      from pg_trigger t
      left join pg_constraint k on k.oid = t.tgconstraint
     where t.tgrelid = v_default and t.tgenabled <> 'D' and coalesce(k.contype, 't') <> 'f'
       -- INSERT, DELETE or UPDATE: a trigger ON TRUNCATE only (such as the one Citus puts on every
       -- distributed table, which may not be disabled) never fires for a move
       and t.tgtype::int & (4 | 8 | 16) <> 0;
    referenced := exists (
        select from pg_trigger t join pg_constraint k on k.oid = t.tgconstraint
         where t.tgrelid = v_default and k.contype = 'f' and k.confrelid = any (array[v_default::oid, p_parent::oid]
               || array(select a.relid::oid from pg_partition_ancestors(p_parent) a)));
    published := exists (select from pg_publication p where p.puballtables)
        or exists (select from pg_publication_rel r
                    where r.prrelid = v_default or r.prrelid in (select a.relid from pg_partition_ancestors(p_parent) a));
    -- FOR TABLES IN SCHEMA (PostgreSQL 15+)
    if not published and to_regclass('pg_catalog.pg_publication_namespace') is not null then
        execute 'select exists (select from pg_catalog.pg_publication_namespace n
                                 where n.pnnspid in (select c.relnamespace from pg_catalog.pg_class c
                                                      where c.oid = $1 or c.oid in (select a.relid from pg_catalog.pg_partition_ancestors($2) a)))'
            into published using v_default, p_parent;
    end if;
    delete_rules := exists (select from pg_rewrite r where r.ev_class = v_default and r.ev_type = '4');
end
$$;
