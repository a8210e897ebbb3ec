// NCRONTAB schedules as the timer trigger reads them: `{second} {minute} {hour} {day} {month} {day-of-week}`
// (a 5-field expression is taken as having second 0). Fields accept `*`, numbers, names (JAN, MON),
// lists `a,b`, ranges `a-b` and steps `*/n` or `a-b/n`. Day-of-week is 0-6 with Sunday = 0 (7 is also
// Sunday). As in NCrontab, a date must match both the day and the day-of-week fields. Times are UTC.

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const fields: FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

export interface CronSchedule {
  expression: string;
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
}

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  if (named >= 0) return spec.name === 'month' ? named + 1 : named;
  if (!/^\d+$/.test(text)) throw new Error(`Invalid ${spec.name} "${text}" in schedule "${expression}".`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new Error(
      `The ${spec.name} ${value} is out of range (${spec.min}-${spec.max}) in schedule "${expression}".`,
    );
  }
  return value;
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [rangeText = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new Error(`Invalid step "${item}" in schedule "${expression}".`);
    let low: number;
    let high: number;
    if (rangeText === '*' || rangeText === '?') {
      low = spec.min;
      high = spec.name === 'day-of-week' ? 6 : spec.max;
    } else if (rangeText.includes('-')) {
      const [a = '', b = ''] = rangeText.split('-');
      low = parseValue(a, spec, expression);
      high = parseValue(b, spec, expression);
      if (high < low) throw new Error(`Invalid range "${rangeText}" in schedule "${expression}".`);
    } else {
      low = parseValue(rangeText, spec, expression);
      high = stepText === undefined ? low : spec.max;
    }
    for (let v = low; v <= high; v += step) values.add(spec.name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return values;
}

export function parseNcrontab(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length === 5) parts.unshift('0');
  if (parts.length !== 6) {
    throw new Error(
      `Invalid schedule "${expression}": expected 6 fields {second} {minute} {hour} {day} {month} {day-of-week}.`,
    );
  }
  const [seconds, minutes, hours, days, months, weekdays] = fields.map((spec, i) =>
    parseField(parts[i] ?? '', spec, expression),
  );
  if (!seconds || !minutes || !hours || !days || !months || !weekdays) throw new Error('unreachable');

  return {
    expression,
    next(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
      while (t.getTime() <= limit) {
        if (!months.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0);
          continue;
        }
        if (!days.has(t.getUTCDate()) || !weekdays.has(t.getUTCDay())) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0);
          continue;
        }
        if (!hours.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0);
          continue;
        }
        if (!minutes.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0);
          continue;
        }
        if (!seconds.has(t.getUTCSeconds())) {
          t.setUTCSeconds(t.getUTCSeconds() + 1);
          continue;
        }
        return t;
      }
      throw new Error(`Schedule "${expression}" has no occurrence in the next five years.`);
    },
  };
}
