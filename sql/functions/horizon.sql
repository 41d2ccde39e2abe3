create or replace function partkeeper.horizon(p_parent regclass, p_at timestamptz)
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The end of the run of contiguous partitions of p_parent that starts with the partition holding
 * p_at: the first instant from which an insert would land in the DEFAULT partition again.
 * NULL when no partition holds p_at. Computed by coverage(), with the gaps.
 */
begin
    return (
    select (partkeeper.coverage(p_parent, p_at)).horizon);
end
$$;
