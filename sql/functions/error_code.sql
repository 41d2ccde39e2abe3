create or replace function partkeeper.error_code(p_sqlstate text, out code text, out severity text)
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * The stable warning code of a maintenance step that PostgreSQL or partkeeper refused, from its
 * SQLSTATE, and its severity: 'retry' (transient: the next run retries on its own), 'warning' (a
 * known refusal that leaves rows waiting, with a hint saying what to grant or drop) or 'error' (a
 * DBA must act: the run's status becomes "failed"). The codes are documented in the README
 * ("Warning codes"); programs match on them, never on message text.
 *   lock_timeout            PK005, 55P03, 40P01 (retry)
 *   rows_arrived            PK012: a row of the period reached the DEFAULT partition during its ATTACH (retry)
 *   fk_violation            23503: DETACH or a move refused by a referencing row
 *   dependent_objects       2BP01: DROP refused by a view, a foreign key or another dependent object
 *   check_violation         23514: a row that breaks a CHECK or the partition bounds
 *   out_of_range            22008, 22003, 22007: a key or bound PostgreSQL cannot compute with
 *   conflict                PK006: a partition with other bounds or a name taken by another relation
 *   replica_role_required   PK009: moving rows needs session_replication_role (warning)
 *   delete_rule             PK010: a rewrite rule ON DELETE on the DEFAULT partition (warning)
 *   not_owner               PK007: the role may not act as the table's owner
 *   insufficient_privilege  42501
 *   table_missing           PK002: the table was dropped
 *   unsupported             PK003: the table is no longer partitioned by one time column
 *   error                   anything else (the SQLSTATE is reported with it)
 */
select case
           when p_sqlstate in ('PK005', '55P03', '40P01') then 'lock_timeout'
           when p_sqlstate = 'PK012' then 'rows_arrived'
           when p_sqlstate = '23503' then 'fk_violation'
           when p_sqlstate = '2BP01' then 'dependent_objects'
           when p_sqlstate = '23514' then 'check_violation'
           when p_sqlstate in ('22008', '22003', '22007') then 'out_of_range'
           when p_sqlstate = 'PK006' then 'conflict'
           when p_sqlstate = 'PK009' then 'replica_role_required'
           when p_sqlstate = 'PK010' then 'delete_rule'
           when p_sqlstate = 'PK007' then 'not_owner'
           when p_sqlstate = '42501' then 'insufficient_privilege'
           when p_sqlstate = 'PK002' then 'table_missing'
           when p_sqlstate = 'PK003' then 'unsupported'
           else 'error' end,
       case when p_sqlstate in ('PK005', '55P03', '40P01', 'PK012') then 'retry'
            when p_sqlstate in ('PK009', 'PK010') then 'warning'
            else 'error' end
$$;
