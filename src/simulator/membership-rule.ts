// The simulator's own reading of dynamic membership rules, for `verify` and the scenarios: it decides who must be a
// member of a dynamic group from the principal's record, apart from the service's evaluator (src/engine), so that
// a bug there shows up as a difference instead of agreeing with itself. It reads only the forms the simulator
// writes, and refuses anything else rather than guess:
//
//   clause [-and clause]…       clause: [(] user.|device.<property> -eq|-ne|-in <value> [)]
//   value: "text" | true | false | ["a", "b", …]
//
// As in Entra, text compares case-insensitively and a property without a value (null or "") equals nothing.

/** A principal's properties as a rule reads them: text, a flag, or nothing. */
export type RuleFacts = Readonly<Record<string, string | boolean | null | undefined>>;

export interface RuleClause {
  readonly property: string;
  readonly operator: 'eq' | 'ne' | 'in';
  /** Lower-cased text ("true"/"false" for flags); one value for -eq/-ne, any number for -in. */
  readonly values: readonly string[];
}

export interface SimpleRule {
  readonly subject: 'user' | 'device';
  readonly clauses: readonly RuleClause[];
}

const CLAUSE = /^\(?\s*(user|device)\.([A-Za-z][A-Za-z0-9]*)\s+-(eq|ne|in)\s+(.+?)\s*\)?$/i;

/** Parses a rule of the forms above; throws, naming the rule, on anything else. */
export function parseSimpleRule(rule: string): SimpleRule {
  const refuse = (why: string): never => {
    throw new Error(`the simulator cannot read the membership rule ${JSON.stringify(rule)}: ${why}`);
  };
  let subject: 'user' | 'device' | undefined;
  const clauses = rule
    .trim()
    .split(/\s+-and\s+/i)
    .map((text) => {
      const found = CLAUSE.exec(text.trim());
      if (!found) return refuse(`"${text}" is not <subject>.<property> -eq|-ne|-in <value>`);
      const [, object = '', property = '', operator = '', literal = ''] = found;
      const kind = object.toLowerCase() === 'device' ? 'device' : 'user';
      if (subject !== undefined && subject !== kind) refuse('it mixes user and device properties');
      subject = kind;
      const parsed = literalOf(literal) ?? refuse(`${literal} is not a quoted value, true, false or a list`);
      const op = operator.toLowerCase() === 'in' ? 'in' : operator.toLowerCase() === 'ne' ? 'ne' : 'eq';
      if ((op === 'in') !== parsed.list) refuse(`-${op} takes ${op === 'in' ? 'a list' : 'one value'}`);
      return { property: property.toLowerCase(), operator: op, values: parsed.values } satisfies RuleClause;
    });
  return { subject: subject ?? 'user', clauses };
}

/** The literal as lower-cased texts, or undefined when it is not one the simulator writes. */
function literalOf(literal: string): { list: boolean; values: string[] } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(literal);
  } catch {
    return undefined;
  }
  const one = (v: unknown) =>
    typeof v === 'string' ? v.toLowerCase() : typeof v === 'boolean' ? String(v) : undefined;
  if (!Array.isArray(value)) {
    const text = one(value);
    return text === undefined ? undefined : { list: false, values: [text] };
  }
  const texts = value.map(one);
  return texts.every((t): t is string => t !== undefined) ? { list: true, values: texts } : undefined;
}

/** Whether a principal of `subject` with these facts matches the rule (property names case-insensitive). */
export function ruleMatches(
  rule: SimpleRule | string,
  subject: 'user' | 'device',
  facts: RuleFacts,
): boolean {
  const parsed = typeof rule === 'string' ? parseSimpleRule(rule) : rule;
  if (parsed.subject !== subject) return false;
  const byName = new Map(Object.entries(facts).map(([k, v]) => [k.toLowerCase(), v] as const));
  return parsed.clauses.every((clause) => {
    const raw = byName.get(clause.property);
    const value =
      typeof raw === 'boolean'
        ? String(raw)
        : typeof raw === 'string' && raw !== ''
          ? raw.toLowerCase()
          : null;
    const equal = value !== null && clause.values.includes(value);
    return clause.operator === 'ne' ? !equal : equal;
  });
}
