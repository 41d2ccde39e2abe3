-- Nothing that creates, moves or drops is executable by PUBLIC. The installing role owns every
-- object and keeps all rights; other roles get what partkeeper.grant_maintenance() gives, or what
-- a DBA grants by hand (README, "Roles"). Re-run on every install: functions created since the last
-- install start with PostgreSQL's default EXECUTE for PUBLIC.
revoke all on schema partkeeper from public;
revoke all on all tables in schema partkeeper from public;
revoke all on all sequences in schema partkeeper from public;
revoke execute on all functions in schema partkeeper from public;
revoke execute on all procedures in schema partkeeper from public;
revoke execute on function public.create_monthly_partition(text, date) from public;
revoke execute on function public.ensure_livechat_partitions() from public;
revoke execute on function public.maintain_livechat_partitions() from public;
