// Instants as microseconds since 1970-01-01 UTC, in a bigint: PostgreSQL keeps microseconds and the
// simulator puts rows 1 µs either side of month edges, which a JS Date (milliseconds) cannot hold.
// Only calendar arithmetic for generating inputs lives here; every partitioning rule stays in the SQL.

export type Micros = bigint;

export const US_PER_SECOND = 1_000_000n;
export const US_PER_HOUR = 3_600n * US_PER_SECOND;
export const US_PER_DAY = 24n * US_PER_HOUR;

/** A span of time as a scenario writes it: calendar months and years, then fixed units; any sign. */
export interface Duration {
  years?: number;
  months?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  micros?: number;
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};

/** Parses what PostgreSQL or a scenario writes: ISO 8601 or `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]`. */
export function parseInstant(text: string): Micros {
  const m = /^(\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
    text.trim(),
  );
  if (!m) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  }
  // Date.UTC maps years 0..99 to 1900..1999
  const year = Number(y);
  const fixedMs = year < 100 ? new Date(ms).setUTCFullYear(year) : ms;
  return BigInt(fixedMs) * 1000n + BigInt(frac.padEnd(6, '0')) - BigInt(offsetMinutes) * 60n * US_PER_SECOND;
}

/** `YYYY-MM-DD HH:MM:SS.ffffff+00`: a literal PostgreSQL reads the same in every session TimeZone. */
export function formatInstant(us: Micros): string {
  const ms = floorDiv(us, 1000n);
  const rest = us - ms * 1000n;
  let iso = new Date(Number(ms)).toISOString(); // 2025-09-30T23:59:59.999Z, +010000-01-01T... after 9999
  if (iso.startsWith('+')) iso = `${Number(iso.slice(1, 7))}${iso.slice(7)}`;
  if (!/^\d{4,}-/.test(iso)) throw new Error(`instant before the year 0: ${us}`);
  const frac = `${iso.slice(-4, -1)}${rest.toString().padStart(3, '0')}`;
  const t = iso.indexOf('T');
  return `${iso.slice(0, t)} ${iso.slice(t + 1, t + 9)}${frac === '000000' ? '' : `.${frac}`}+00`;
}

/** Short form for timelines and messages: `2025-09-30 23:59` (UTC). */
export function shortInstant(us: Micros): string {
  return formatInstant(us).slice(0, 16);
}

/** The UTC calendar month of an instant, `YYYY-MM`. */
export function utcMonth(us: Micros): string {
  return /^\d+-\d{2}/.exec(formatInstant(us))![0];
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/**
 * us moved by d. Years and months move the UTC calendar date and clamp the day to the month's
 * length (Jan 31 + 1 month = Feb 28), as PostgreSQL's interval arithmetic does; the rest is fixed time.
 */
export function addDuration(us: Micros, d: Duration): Micros {
  let out = us;
  const months = (d.years ?? 0) * 12 + (d.months ?? 0);
  if (months !== 0) {
    if (!Number.isInteger(months)) throw new Error(`months must be whole: ${JSON.stringify(d)}`);
    const ms = floorDiv(us, 1000n);
    const rest = us - ms * 1000n;
    const t = new Date(Number(ms));
    const total = t.getUTCFullYear() * 12 + t.getUTCMonth() + months;
    const year = Math.floor(total / 12);
    const month0 = total - year * 12;
    const day = Math.min(t.getUTCDate(), daysInMonth(year, month0));
    const moved = new Date(Number(ms));
    moved.setUTCFullYear(year, month0, day);
    out = BigInt(moved.getTime()) * 1000n + rest;
  }
  const fixed = (d.days ?? 0) * 86_400e6 + (d.hours ?? 0) * 3_600e6 + (d.minutes ?? 0) * 60e6 + (d.seconds ?? 0) * 1e6 + (d.micros ?? 0);
  return out + BigInt(Math.round(fixed));
}

/** The first instant of the UTC calendar month of us, moved by `months`. For inputs, not for bounds. */
export function utcMonthStart(us: Micros, months = 0): Micros {
  const t = new Date(Number(floorDiv(us, 1000n)));
  return BigInt(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + months, 1)) * 1000n;
}

/** Human form of a duration in hours/days, for summaries. */
export function describeSpan(us: Micros): string {
  const hours = Number(us) / 3.6e9;
  if (Math.abs(hours) < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}

/** Duration as text: `+14 months`, `-2 days 3 hours`. */
export function describeDuration(d: Duration): string {
  const parts = (['years', 'months', 'days', 'hours', 'minutes', 'seconds', 'micros'] as const)
    .filter((k) => d[k])
    .map((k) => `${d[k]} ${Math.abs(d[k]!) === 1 ? k.slice(0, -1) : k}`);
  const text = parts.join(' ') || '0';
  return /^-/.test(text) ? text : `+${text}`;
}
