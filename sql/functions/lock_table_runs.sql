create or replace function partkeeper.lock_table_runs(p_parent regclass, p_wait boolean, p_lock_timeout interval)
returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set lock_timeout = '500ms'
as $$
/*
 * Take the transaction-level lock that serialises partkeeper's work on p_parent (maintenance and
 * partition creation). For a registered table it is a row lock on its partkeeper.config row (FOR
 * UPDATE): only a role that may change that row (row-level security: one that may maintain the
 * table) can hold it, so no other role can keep maintenance of someone else's table busy. For an
 * unregistered table (create_partition) it is an advisory lock (1886088052, table OID as int4).
 * p_wait = false: try once and return whether it was granted. p_wait = true: wait at most
 * p_lock_timeout, then raise PK005.
 */
declare
    v_key integer := (p_parent::oid::bigint - 2147483648)::integer;
    v_registered boolean := exists (select from partkeeper.config c where c.parent = p_parent);
begin
    if not p_wait then
        if v_registered then
            perform from partkeeper.config c where c.parent = p_parent for update skip locked;
            return found;
        end if;
        return pg_try_advisory_xact_lock(1886088052, v_key);
    end if;
    -- a subtransaction only when waiting: a run that does not wait should not pay for one
    begin
        perform set_config('lock_timeout', (extract(epoch from p_lock_timeout) * 1000)::bigint || 'ms', true);
        if v_registered then
            perform from partkeeper.config c where c.parent = p_parent for update;
        else
            perform pg_advisory_xact_lock(1886088052, v_key);
        end if;
    exception
        when lock_not_available then
            raise exception 'another partkeeper run on % did not finish within %', partkeeper.qualified_name(p_parent), p_lock_timeout
                using errcode = 'PK005', hint = 'Try again when the running maintenance has finished.';
    end;
    return true;
end
$$;
