-- The stamp of every partkeeper.log row (partkeeper.log_stamp): who, when and which table, never
-- what the inserting role says. Re-created on every install.
do $trigger$
begin
    if not exists (select from pg_catalog.pg_trigger t where t.tgrelid = 'partkeeper.log'::regclass and t.tgname = 'log_stamp') then
        create trigger log_stamp before insert on partkeeper.log for each row execute function partkeeper.log_stamp();
    end if;
end
$trigger$;
