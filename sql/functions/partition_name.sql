create or replace function partkeeper.partition_name(p_parent regclass, p_suffix text)
returns name
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The name of a partition of p_parent: the parent's name followed by p_suffix ('_2025_09',
 * '_default'). PostgreSQL cuts identifiers at 63 bytes with only a NOTICE, which would make two
 * months of a long parent, or the partitions of two parents whose names begin alike, the same
 * name. A name that does not fit keeps the suffix whole and shortens the parent part (by whole
 * characters) to make room for '_' and 6 hex digits of the md5 of the parent's full name, as Citus
 * does for shard names: distinct for parents that differ anywhere, stable across dump and restore.
 * A name that fits is the plain concatenation. NULL for a dropped parent or a NULL suffix.
 */
declare
    v_name text := (select relname from pg_class where oid = p_parent);
    v_base text;
    v_tag text;
begin
    if v_name is null or p_suffix is null then
        return null;
    end if;
    if octet_length(v_name || p_suffix) <= 63 then
        return (v_name || p_suffix)::name;
    end if;
    v_tag := '_' || left(md5(v_name), 6);
    v_base := v_name;
    while octet_length(v_base || v_tag || p_suffix) > 63 loop
        v_base := left(v_base, -1);
    end loop;
    return (v_base || v_tag || p_suffix)::name;
end
$$;
