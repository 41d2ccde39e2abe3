create or replace function partkeeper.maintain_all()
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * maintain_table for every registered table, in one transaction (locks are held until the caller
 * commits; CALL partkeeper.run_maintenance() commits after every table instead). A table that fails
 * is reported (status "failed" with its error or warnings) and the others go on: maintain_table
 * never raises for a registered table. Returns {"status", "tables": [maintain_table results]}:
 * status is the worst of the tables (worst_status). A busy table is not waited for. Runs with the
 * caller's rights: tables the caller may not maintain are reported as failed (not_owner).
 */
declare
    v_tables jsonb;
begin
    select coalesce(jsonb_agg(partkeeper.maintain_table(c.parent) order by c.table_name, c.parent), '[]') into v_tables
      from partkeeper.config c;
    return jsonb_build_object(
        'status', partkeeper.worst_status(array(select t ->> 'status' from jsonb_array_elements(v_tables) t)),
        'tables', v_tables);
end
$$;
