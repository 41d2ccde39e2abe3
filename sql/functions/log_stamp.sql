create or replace function partkeeper.log_stamp()
returns trigger
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * BEFORE INSERT row trigger of partkeeper.log (triggers/log_stamp.sql): what a log row says about
 * who, when and which table is not the inserter's to choose. run_by is the session's login role,
 * logged_at the real time, and table_name the name of the table whose OID is in parent (its last
 * known name once dropped), or NULL with it: so a role that may write the log of its own tables
 * cannot write a row that looks like another table's or another role's. Runs partkeeper's own code
 * only, as the inserting role. Returns the stamped row.
 */
begin
    NEW.run_by := session_user;
    NEW.logged_at := clock_timestamp();
    NEW.table_name := case when NEW.parent is null then null
                           else coalesce(partkeeper.qualified_name(NEW.parent::regclass),
                                         (select c.table_name from partkeeper.config c where c.parent = NEW.parent::regclass),
                                         NEW.parent::text) end;
    return NEW;
end
$$;
