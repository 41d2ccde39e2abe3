create or replace function partkeeper.conversion_of(p_table regclass)
returns partkeeper.conversions
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The recorded conversion of p_table, found by either of its tables (the one being converted or
 * its twin, whichever holds the name at the moment): the one under way, else the latest finished
 * one. A row of NULLs when none is recorded (and for NULL). Reads partkeeper.conversions only,
 * without locking it: conversion_state locks the row a step works on. The one place that says which
 * conversion a table name means; the command line reads it to resume from the recorded step.
 */
select c.*
  from partkeeper.conversions c
 where c.parent = p_table or c.twin = p_table
 order by c.step = 'finished', c.updated_at desc
 limit 1
$$;
