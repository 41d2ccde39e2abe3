-- Every write of partkeeper.last_run counts one maintenance run (partkeeper.count_run). Re-created on
-- every install.
do $trigger$
begin
    if not exists (select from pg_catalog.pg_trigger t where t.tgrelid = 'partkeeper.last_run'::regclass and t.tgname = 'count_run') then
        create trigger count_run before insert or update on partkeeper.last_run for each row execute function partkeeper.count_run();
    end if;
end
$trigger$;
