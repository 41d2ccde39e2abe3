create or replace function partkeeper.may_maintain(p_parent regclass)
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * Whether the current role may act on p_parent through partkeeper: it is the table's owner, a
 * member of the owning role, or a superuser; maintenance then runs the table's statements as the
 * owner (execute_as_owner), never with more rights. False for NULL and for a table that no longer
 * exists. Also the row-level security rule of partkeeper's own tables (sql/privileges.sql): a role
 * reads every table's state but changes only the state of tables it may maintain.
 */
begin
    return (
    select coalesce((select pg_has_role(current_user, c.relowner, 'MEMBER') from pg_class c where c.oid = p_parent), false));
end
$$;
