create or replace function partkeeper.lock_table_runs(p_parent regclass, p_wait boolean, p_lock_timeout interval)
returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set lock_timeout = '500ms'
as $$
/*
 * Take the transaction-level advisory lock that serialises partkeeper's work on p_parent
 * (maintenance and manual partition creation). p_wait = false: try once and return whether it
 * was granted. p_wait = true: wait at most p_lock_timeout, then raise PK005.
 * Key: (1886088052, table OID shifted into int4), shared with nothing else.
 */
declare
    v_key integer := (p_parent::oid::bigint - 2147483648)::integer;
begin
    if not p_wait then
        return pg_try_advisory_xact_lock(1886088052, v_key);
    end if;
    perform set_config('lock_timeout', (extract(epoch from p_lock_timeout) * 1000)::bigint || 'ms', true);
    perform pg_advisory_xact_lock(1886088052, v_key);
    return true;
exception
    when lock_not_available then
        raise exception 'another partkeeper run on % did not finish within %', p_parent, p_lock_timeout
            using errcode = 'PK005', hint = 'Try again when the running maintenance has finished.';
end
$$;
