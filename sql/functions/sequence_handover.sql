create or replace function partkeeper.sequence_handover(p_from regclass, p_to regclass)
returns text[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The statements that hand the column sequences of p_from over to p_to, for the moment p_to takes
 * p_from's name: an identity column of p_to continues from the last value of p_from's (setval
 * when p_from's has been used), and a sequence owned by a column of p_from that is not identity
 * (a serial: the DEFAULT nextval() both tables share) becomes owned by p_to's column of the same
 * name, so it stays with the table that holds the name and is dropped with it, not with the other.
 * convert_swap hands over from the table to its twin, convert_undo back from the twin; both run
 * the statements while they hold ACCESS EXCLUSIVE on both tables, so no value is taken in between.
 * Reads the catalog only; the statements are returned in column order, not run. Both tables must
 * have the same columns. NULL for either table: no statements.
 */
declare
    v_stmts text[] := '{}';
    r record;
begin
    for r in
        select a.attname, a.attidentity <> '' as identity,
               pg_get_serial_sequence(p_from::text, a.attname) as seq,
               pg_get_serial_sequence(p_to::text, a.attname) as to_seq
          from pg_attribute a
         where a.attrelid = p_from and a.attnum > 0 and not a.attisdropped
           and pg_get_serial_sequence(p_from::text, a.attname) is not null
           and p_to is not null
         order by a.attnum
    loop
        if r.identity and r.to_seq is not null then
            v_stmts := v_stmts || format('select pg_catalog.setval(%L::regclass, v) from pg_catalog.pg_sequence_last_value(%L::regclass) v where v is not null',
                                         r.to_seq, r.seq);
        elsif not r.identity then
            v_stmts := v_stmts || format('alter sequence %s owned by %s.%I', r.seq, p_to, r.attname);
        end if;
    end loop;
    return v_stmts;
end
$$;
