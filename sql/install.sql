-- partkeeper: the one manifest. Apply with, from the project root:
--   psql -v ON_ERROR_STOP=1 -f sql/install.sql
-- Every file is listed here in the order it runs. The whole install is one transaction: it either
-- completes or changes nothing, and running it again is always safe (upgrade in place).
begin;
-- one install at a time
do $$ begin perform pg_catalog.pg_advisory_xact_lock(1886088052, 0); end $$;
\ir checks/install_rights.sql

-- On a Citus coordinator partkeeper's own schema, types and functions stay there: with DDL propagation
-- on, Citus would also create them on every worker, where nothing of partkeeper runs. (It is the
-- session's setting again while the table is registered below: DDL on a distributed table must reach
-- its shards.)
do $$ begin
    if current_setting('citus.enable_ddl_propagation', true) is not null then
        perform pg_catalog.set_config('partkeeper.citus_ddl_propagation', current_setting('citus.enable_ddl_propagation'), true);
        perform pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
    end if;
end $$;

-- migrations drop objects of older versions that a fresh database does not have: no notices for those
set local client_min_messages = warning;
\ir schema/0000_bootstrap.sql
\ir schema/0001_engine_tables.sql
\ir schema/0002_retention_archives_intervals.sql
\ir schema/0003_owner_rights_steps.sql
\ir schema/0004_run_counters.sql
\ir schema/0005_conversions.sql
set local client_min_messages to default;

\ir functions/version.sql
\ir functions/qualified_name.sql
\ir functions/resolve_table.sql
\ir functions/citus_table.sql
\ir functions/relation_size.sql
\ir functions/local_size.sql
\ir functions/rows_estimate.sql
\ir functions/may_maintain.sql
\ir functions/owner_search_path.sql
\ir functions/may_set_replica_role.sql
\ir functions/error_code.sql
\ir functions/worst_status.sql
\ir functions/worst_check_status.sql
\ir functions/step_failure.sql
\ir functions/now.sql
\ir functions/month_start.sql
\ir functions/key_expr.sql
\ir functions/key_value.sql
\ir functions/bound_literal.sql
\ir functions/partition_name.sql
\ir functions/table_info.sql
\ir functions/partition_bounds.sql
\ir functions/partition_set_signature.sql
\ir functions/config_for.sql
\ir functions/write_log.sql
\ir functions/log_stamp.sql
\ir functions/record_run.sql
\ir functions/count_run.sql
\ir functions/owner_executor.sql
\ir functions/execute_as_owner.sql
\ir functions/query_as_owner.sql
\ir functions/copyable_columns.sql
\ir functions/copy_columns.sql
\ir functions/lock_table_runs.sql
\ir functions/period_bounds.sql
\ir functions/table_period.sql
\ir functions/horizon_target.sql
\ir functions/drain_window.sql
\ir functions/periods_between.sql
\ir functions/default_periods.sql
\ir functions/coverage.sql
\ir functions/horizon.sql
\ir functions/partition_ddl.sql
\ir functions/move_observers.sql
\ir functions/ddl_locks.sql
\ir functions/distribute_like.sql
\ir functions/add_partition.sql
\ir functions/retention_scope.sql
\ir functions/expired_partitions.sql
\ir functions/next_expiry.sql
\ir functions/retire_partition.sql
\ir functions/ensure_default.sql
\ir functions/create_partition.sql
\ir functions/register_table.sql
\ir functions/configure.sql
\ir functions/unregister_table.sql
\ir functions/busy_result.sql
\ir functions/maintain_table.sql
\ir functions/maintain_all.sql
\ir procedures/run_maintenance.sql
-- the calls a DBA names a table in, taking its name as text (resolve_table)
\ir by_name/register_table.sql
\ir by_name/configure.sql
\ir by_name/unregister_table.sql
\ir by_name/maintain_table.sql
\ir by_name/create_partition.sql
\ir by_name/run_maintenance.sql
\ir by_name/partition_bounds.sql
\ir by_name/expired_partitions.sql
\ir views/partitions.sql
\ir functions/cron_database.sql
\ir functions/cron_jobs.sql
\ir functions/status.sql
\ir functions/health.sql
\ir functions/log_counts.sql
\ir functions/fold_pruned_log.sql
\ir functions/metrics.sql
\ir functions/job_definitions.sql
\ir functions/schedule_jobs.sql
\ir functions/unschedule_jobs.sql
\ir functions/record_archive.sql
\ir functions/check_restore_range.sql
\ir functions/restore_target.sql
\ir functions/attach_restored.sql
\ir functions/convert_check.sql
\ir functions/capture_ddl.sql
\ir functions/sequence_handover.sql
\ir functions/swap_ddl.sql
\ir functions/conversion_of.sql
\ir functions/conversion_next.sql
\ir functions/conversion_state.sql
\ir functions/convert_prepare.sql
\ir functions/convert_capture.sql
\ir functions/convert_fill_batch.sql
\ir procedures/convert_fill.sql
\ir functions/convert_verify.sql
\ir functions/convert_swap.sql
\ir functions/convert_undo.sql
\ir functions/convert_finish.sql

\ir functions/ensure_livechat_partitions.sql
\ir adopt/original_design.sql
\ir public/create_monthly_partition.sql
\ir public/ensure_livechat_partitions.sql
\ir public/maintain_livechat_partitions.sql
\ir functions/grant_monitoring.sql
\ir functions/grant_maintenance.sql

do $$ begin
    if current_setting('citus.enable_ddl_propagation', true) is not null then
        perform pg_catalog.set_config('citus.enable_ddl_propagation', current_setting('partkeeper.citus_ddl_propagation'), true);
    end if;
end $$;
\ir tables/livechat_messages.sql
\ir triggers/log_stamp.sql
\ir triggers/count_run.sql
\ir triggers/fold_pruned_log.sql
\ir cron.sql
\ir privileges.sql
commit;
