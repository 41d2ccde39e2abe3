-- Pruning partkeeper.log keeps what the pruned rows counted (partkeeper.fold_pruned_log): before and
-- after a DELETE, before a TRUNCATE. Re-created on every install.
do $trigger$
begin
    if not exists (select from pg_catalog.pg_trigger t where t.tgrelid = 'partkeeper.log'::regclass and t.tgname = 'fold_pruned_log_before') then
        create trigger fold_pruned_log_before before delete or truncate on partkeeper.log
            for each statement execute function partkeeper.fold_pruned_log();
    end if;
    if not exists (select from pg_catalog.pg_trigger t where t.tgrelid = 'partkeeper.log'::regclass and t.tgname = 'fold_pruned_log_after') then
        create trigger fold_pruned_log_after after delete on partkeeper.log
            for each statement execute function partkeeper.fold_pruned_log();
    end if;
end
$trigger$;
