create or replace function partkeeper.partition_name(p_parent regclass, p_suffix text)
returns name
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The name of a partition of p_parent: the parent's name followed by p_suffix ('_2025_09',
 * '_default'). PostgreSQL cuts identifiers at 63 bytes with only a NOTICE, which would make two
 * months of a long parent the same name; here the parent part is shortened instead, by whole
 * characters until the name fits in 63 bytes, and the suffix is always kept whole.
 */
declare
    v_base text := (select relname from pg_class where oid = p_parent);
begin
    if v_base is null or p_suffix is null then
        return null;
    end if;
    while octet_length(v_base || p_suffix) > 63 loop
        v_base := left(v_base, -1);
    end loop;
    return (v_base || p_suffix)::name;
end
$$;
