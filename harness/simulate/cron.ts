// Five-field cron expressions (minute hour day-of-month month day-of-week, UTC), enough to play
// pg_cron's schedules in simulated time: *, */n, a, a-b, a-b/n and comma lists.
import { US_PER_HOUR, type Micros } from '../instant.ts';

const US_PER_MINUTE = 60_000_000n;

function field(text: string, min: number, max: number, name: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron ${name}: cannot read ${JSON.stringify(part)}`);
    const lo = m[1] === '*' ? min : Number(m[2]);
    const hi = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) throw new Error(`cron ${name}: ${JSON.stringify(part)} is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export class Cron {
  readonly #minutes: number[];
  readonly #hours: Set<number>;
  readonly #days: Set<number>;
  readonly #months: Set<number>;
  readonly #weekdays: Set<number>;
  readonly #anyDay: boolean;
  readonly #anyWeekday: boolean;

  constructor(readonly expression: string) {
    const f = expression.trim().split(/\s+/);
    if (f.length !== 5) throw new Error(`cron: expected 5 fields (minute hour day month weekday), got ${JSON.stringify(expression)}`);
    this.#minutes = [...field(f[0]!, 0, 59, 'minute')].sort((a, b) => a - b);
    this.#hours = field(f[1]!, 0, 23, 'hour');
    this.#days = field(f[2]!, 1, 31, 'day of month');
    this.#months = field(f[3]!, 1, 12, 'month');
    this.#weekdays = new Set([...field(f[4]!, 0, 7, 'day of week')].map((d) => d % 7));
    this.#anyDay = f[2] === '*';
    this.#anyWeekday = f[4] === '*';
  }

  #hourMatches(hourStart: Micros): boolean {
    const t = new Date(Number(hourStart / 1000n));
    if (!this.#hours.has(t.getUTCHours()) || !this.#months.has(t.getUTCMonth() + 1)) return false;
    const day = this.#days.has(t.getUTCDate());
    const weekday = this.#weekdays.has(t.getUTCDay());
    // cron's rule: with both day fields restricted, either may match
    if (this.#anyDay && this.#anyWeekday) return true;
    if (this.#anyDay) return weekday;
    if (this.#anyWeekday) return day;
    return day || weekday;
  }

  /** The first `limit` times in (from, to] at which the job fires. */
  fires(from: Micros, to: Micros, limit = 2): Micros[] {
    const out: Micros[] = [];
    // walk whole hours, then the listed minutes of the hours that match: cheap over months
    for (let hour = from - (((from % US_PER_HOUR) + US_PER_HOUR) % US_PER_HOUR); hour <= to && out.length < limit; hour += US_PER_HOUR) {
      if (!this.#hourMatches(hour)) continue;
      for (const minute of this.#minutes) {
        const t = hour + BigInt(minute) * US_PER_MINUTE;
        if (t > from && t <= to) out.push(t);
        if (out.length >= limit) break;
      }
    }
    return out;
  }
}
