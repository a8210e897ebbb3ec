/**
 * Dynamic membership rules, in Entra's language (Microsoft Learn, "Dynamic membership rules for groups"): a parser
 * whose errors say where and what was expected, and a pure evaluator that can also explain itself expression by
 * expression (Graph beta's `expressionEvaluationDetails`).
 *
 * - `object.property -operator value`; the hyphen is optional; operators, `-and -or -not` and property names are
 *   case-insensitive here (Entra documents property names as case-sensitive: being lenient changes no meaning).
 * - Precedence, tightest first: comparisons, `-not`, `-and`, `-or`; parentheses group.
 * - Multi-valued properties take `-any`/`-all` over `_` (`user.proxyAddresses -any (_ -startsWith "smtp:")`), or
 *   over `assignedPlan` for `user.assignedPlans`.
 * - String and regex comparisons are case-insensitive; `-contains` is a substring test; `-in` takes `["a", "b"]`.
 * - `null` with `-eq`/`-ne` only (`-not` cannot negate a null comparison); a property without a value is null.
 * - At most 3,072 characters; users or devices, never both.
 * What Entra supports and this service does not (`memberOf`, `Direct Reports for`, `employeeHireDate` with
 * `-ge`/`-le`, directory extensions) is refused with a reason, never ignored.
 */

export type RuleSubject = 'user' | 'device';

/** One plan of `user.assignedPlans`, as a rule reads it. */
export interface RulePlan {
  readonly servicePlanId: string;
  readonly capabilityStatus: string;
  readonly service?: string;
}

/** What a rule may read of one user or device, by property name as in the property tables below. */
export type RuleFacts = Readonly<
  Record<string, string | boolean | null | undefined | readonly string[] | readonly RulePlan[]>
>;

export const MAX_RULE_LENGTH = 3072;

type ValueKind = 'string' | 'boolean' | 'strings' | 'plans';

const extensionAttributes = Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`);

/** The properties a rule may read, per subject, with what they hold. */
export const RULE_PROPERTIES: Readonly<Record<RuleSubject, Readonly<Record<string, ValueKind>>>> = {
  user: {
    accountEnabled: 'boolean',
    city: 'string',
    companyName: 'string',
    country: 'string',
    department: 'string',
    displayName: 'string',
    employeeId: 'string',
    jobTitle: 'string',
    mail: 'string',
    mailNickname: 'string',
    objectId: 'string',
    officeLocation: 'string',
    state: 'string',
    usageLocation: 'string',
    userPrincipalName: 'string',
    userType: 'string',
    ...Object.fromEntries(extensionAttributes.map((name) => [name, 'string' as const])),
    proxyAddresses: 'strings',
    otherMails: 'strings',
    assignedPlans: 'plans',
  },
  device: {
    accountEnabled: 'boolean',
    deviceId: 'string',
    deviceOSType: 'string',
    deviceOSVersion: 'string',
    deviceOwnership: 'string',
    deviceTrustType: 'string',
    displayName: 'string',
    enrollmentProfileName: 'string',
    isRooted: 'boolean',
    managementType: 'string',
    objectId: 'string',
    ...Object.fromEntries(extensionAttributes.map((name) => [name, 'string' as const])),
    devicePhysicalIds: 'strings',
  },
};

const PLAN_FIELDS: Readonly<Record<string, keyof RulePlan>> = {
  serviceplanid: 'servicePlanId',
  capabilitystatus: 'capabilityStatus',
  service: 'service',
};

/** Entra features refused with a reason (lower-cased property or word → why). */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  memberof: 'memberOf rules (groups of groups) are not supported by this service',
  employeehiredate: 'employeeHireDate is not stored by this service',
  manager: 'manager rules are not supported by this service',
  direct: '"Direct Reports for" rules are not supported by this service',
  system: 'system.now comparisons are not supported by this service',
  profiletype: 'profileType is not stored by this service',
  systemlabels: 'systemLabels is not stored by this service',
};

type CompareOperator =
  | 'eq'
  | 'ne'
  | 'startswith'
  | 'notstartswith'
  | 'endswith'
  | 'notendswith'
  | 'contains'
  | 'notcontains'
  | 'match'
  | 'notmatch'
  | 'in'
  | 'notin';

const COMPARE_OPERATORS = new Set<string>([
  'eq',
  'ne',
  'startswith',
  'notstartswith',
  'endswith',
  'notendswith',
  'contains',
  'notcontains',
  'match',
  'notmatch',
  'in',
  'notin',
]);

type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'list'; readonly values: readonly string[] };

/** What a comparison reads: a property of the subject, the item `_` of a collection, or a field of a plan. */
type Operand =
  | { readonly kind: 'property'; readonly name: string; readonly valueKind: ValueKind }
  | { readonly kind: 'item' }
  | { readonly kind: 'plan'; readonly field: keyof RulePlan };

interface Span {
  readonly start: number;
  readonly end: number;
}

export type RuleNode = Span &
  (
    | { readonly kind: 'or' | 'and'; readonly left: RuleNode; readonly right: RuleNode }
    | { readonly kind: 'not'; readonly operand: RuleNode }
    | {
        readonly kind: 'compare';
        readonly operand: Operand;
        readonly operator: CompareOperator;
        readonly literal: Literal;
        readonly pattern?: RegExp;
      }
    | {
        readonly kind: 'quantified';
        readonly property: string;
        readonly items: 'strings' | 'plans';
        readonly quantifier: 'any' | 'all';
        readonly predicate: RuleNode;
      }
  );

export interface MembershipRule {
  readonly text: string;
  readonly subject: RuleSubject;
  readonly root: RuleNode;
}

/** Where a rule is wrong and what was expected there (0-based character position). */
export interface RuleError {
  readonly position: number;
  readonly message: string;
}

export type RuleParse =
  | { readonly ok: true; readonly rule: MembershipRule }
  | { readonly ok: false; readonly error: RuleError };

type Token = Span &
  (
    | { readonly kind: 'word'; readonly text: string }
    | { readonly kind: 'operator'; readonly text: string }
    | { readonly kind: 'string'; readonly text: string }
    | { readonly kind: '(' | ')' | '[' | ']' | ',' | 'end' }
  );

class RuleSyntaxError extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

function shown(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the rule';
    case 'string':
      return `"${token.text}"`;
    case 'word':
      return `'${token.text}'`;
    case 'operator':
      return `'-${token.text}'`;
    default:
      return `'${token.kind}'`;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === '[' || c === ']' || c === ',') {
      tokens.push({ kind: c, start, end: i + 1 });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw new RuleSyntaxError(start, 'a string is not closed: expected its closing quote');
        const ch = text.charAt(i);
        // Inside double quotes a backtick escapes the next character (`" is a quote); inside single quotes, '' is one.
        if (c === '"' && ch === '`' && i + 1 < text.length) {
          value += text.charAt(i + 1);
          i += 2;
          continue;
        }
        if (ch === c) {
          if (c === "'" && text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', text: value, start, end: i });
      continue;
    }
    if (c === '-' && /[A-Za-z]/.test(text.charAt(i + 1))) {
      i++;
      while (i < text.length && /[A-Za-z]/.test(text.charAt(i))) i++;
      tokens.push({ kind: 'operator', text: text.slice(start + 1, i).toLowerCase(), start, end: i });
      continue;
    }
    if (/[A-Za-z0-9_.]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_.]/.test(text.charAt(i))) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), start, end: i });
      continue;
    }
    throw new RuleSyntaxError(start, `unexpected character '${c}'`);
  }
  tokens.push({ kind: 'end', start: text.length, end: text.length });
  return tokens;
}

class Parser {
  private at = 0;
  private subject: RuleSubject | undefined;
  /** Inside `-any`/`-all`: what `_` or `assignedPlan.…` stand for. */
  private items: 'strings' | 'plans' | undefined;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): MembershipRule {
    const root = this.or();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(next, 'expected -and, -or or the end of the rule');
    if (!this.subject) throw new RuleSyntaxError(0, 'a rule reads at least one property of user or device');
    return { text: this.text, subject: this.subject, root };
  }

  private peek(): Token {
    return this.tokens[this.at] ?? { kind: 'end', start: this.text.length, end: this.text.length };
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.at++;
    return token;
  }

  private fail(token: Token, expected: string): never {
    throw new RuleSyntaxError(token.start, `${expected}, found ${shown(token)}`);
  }

  /** The logical keyword at the cursor (`-and` or bare `and`), if it is `word`. */
  private isKeyword(word: string): boolean {
    const token = this.peek();
    return (token.kind === 'operator' || token.kind === 'word') && token.text.toLowerCase() === word;
  }

  private or(): RuleNode {
    let left = this.and();
    while (this.isKeyword('or')) {
      this.take();
      const right = this.and();
      left = { kind: 'or', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private and(): RuleNode {
    let left = this.not();
    while (this.isKeyword('and')) {
      this.take();
      const right = this.not();
      left = { kind: 'and', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private not(): RuleNode {
    if (!this.isKeyword('not')) return this.primary();
    const keyword = this.take();
    const operand = this.not();
    if (operand.kind === 'compare' && operand.literal.kind === 'null') {
      throw new RuleSyntaxError(
        keyword.start,
        '-not cannot negate a comparison with null: use -eq null or -ne null',
      );
    }
    return { kind: 'not', operand, start: keyword.start, end: operand.end };
  }

  private primary(): RuleNode {
    const token = this.peek();
    if (token.kind === '(') {
      this.take();
      const inner = this.or();
      const close = this.take();
      if (close.kind !== ')') this.fail(close, "expected ')'");
      return { ...inner, start: token.start, end: close.end };
    }
    if (token.kind !== 'word') this.fail(token, 'expected a property such as user.department, or (');
    return this.comparison();
  }

  private comparison(): RuleNode {
    const propertyToken = this.take();
    if (propertyToken.kind !== 'word') this.fail(propertyToken, 'expected a property');
    const operand = this.operand(propertyToken);
    const operatorToken = this.take();
    const operator =
      operatorToken.kind === 'operator' || operatorToken.kind === 'word'
        ? operatorToken.text.toLowerCase()
        : '';
    if (operator === 'any' || operator === 'all') return this.quantified(propertyToken, operand, operator);
    if (operator === 'ge' || operator === 'le' || operator === 'gt' || operator === 'lt') {
      throw new RuleSyntaxError(
        operatorToken.start,
        `-${operator} compares dates of employeeHireDate only, which this service does not store`,
      );
    }
    if (!COMPARE_OPERATORS.has(operator)) {
      this.fail(
        operatorToken,
        'expected an operator (-eq, -ne, -startsWith, -contains, -match, -in, -any, …)',
      );
    }
    if (operand.kind === 'property' && (operand.valueKind === 'strings' || operand.valueKind === 'plans')) {
      throw new RuleSyntaxError(
        operatorToken.start,
        `${operand.name} holds several values: compare them with -any or -all, e.g. (${this.subjectName()}.${operand.name} -any (_ -eq "…"))`,
      );
    }
    const valueToken = this.peek();
    const literal = this.literal(operator as CompareOperator);
    const end = this.tokens[this.at - 1]?.end ?? operatorToken.end;
    let pattern: RegExp | undefined;
    if (operator === 'match' || operator === 'notmatch') {
      if (literal.kind !== 'string')
        throw new RuleSyntaxError(operatorToken.start, `-${operator} takes a quoted pattern`);
      try {
        pattern = new RegExp(literal.value, 'i');
      } catch {
        throw new RuleSyntaxError(valueToken.start, `"${literal.value}" is not a valid regular expression`);
      }
    }
    return {
      kind: 'compare',
      operand,
      operator: operator as CompareOperator,
      literal,
      ...(pattern ? { pattern } : {}),
      start: propertyToken.start,
      end,
    };
  }

  private subjectName(): string {
    return this.subject ?? 'user';
  }

  private operand(token: Token & { kind: 'word' }): Operand {
    const text = token.text;
    if (text === '_') {
      if (this.items !== 'strings') {
        throw new RuleSyntaxError(
          token.start,
          '_ stands for one value of a multi-valued property, inside -any or -all',
        );
      }
      return { kind: 'item' };
    }
    const dot = text.indexOf('.');
    const head = (dot < 0 ? text : text.slice(0, dot)).toLowerCase();
    const rest = dot < 0 ? '' : text.slice(dot + 1);
    if (head === 'assignedplan') {
      const field = PLAN_FIELDS[rest.toLowerCase()];
      if (this.items !== 'plans') {
        throw new RuleSyntaxError(
          token.start,
          'assignedPlan.… is read inside user.assignedPlans -any (…) only',
        );
      }
      if (!field)
        throw new RuleSyntaxError(
          token.start,
          `assignedPlan has servicePlanId, capabilityStatus and service, not '${rest}'`,
        );
      return { kind: 'plan', field };
    }
    const unsupported = UNSUPPORTED[head] ?? UNSUPPORTED[rest.toLowerCase()];
    if (unsupported) throw new RuleSyntaxError(token.start, unsupported);
    if (head !== 'user' && head !== 'device') {
      throw new RuleSyntaxError(
        token.start,
        `expected a property of user or device (user.department, device.deviceOSType), found '${text}'`,
      );
    }
    if (this.items !== undefined) {
      throw new RuleSyntaxError(
        token.start,
        'inside -any or -all, compare _ (or assignedPlan.…), not another property',
      );
    }
    if (this.subject && this.subject !== head) {
      throw new RuleSyntaxError(token.start, 'a rule reads users or devices, not both');
    }
    this.subject = head;
    if (rest.toLowerCase().startsWith('extension_')) {
      throw new RuleSyntaxError(
        token.start,
        'directory extension attributes (extension_…) are not stored by this service',
      );
    }
    const properties = RULE_PROPERTIES[head];
    const name = Object.keys(properties).find((p) => p.toLowerCase() === rest.toLowerCase());
    const valueKind = name ? properties[name] : undefined;
    if (!name || !valueKind) {
      throw new RuleSyntaxError(token.start, `${head} has no property '${rest}' that rules can read`);
    }
    return { kind: 'property', name, valueKind };
  }

  private quantified(propertyToken: Token, operand: Operand, quantifier: 'any' | 'all'): RuleNode {
    if (operand.kind !== 'property' || (operand.valueKind !== 'strings' && operand.valueKind !== 'plans')) {
      throw new RuleSyntaxError(
        propertyToken.start,
        `-${quantifier} applies to a multi-valued property such as user.proxyAddresses`,
      );
    }
    const open = this.take();
    if (open.kind !== '(') this.fail(open, `expected '(' after -${quantifier}`);
    this.items = operand.valueKind;
    const predicate = this.or();
    this.items = undefined;
    const close = this.take();
    if (close.kind !== ')') this.fail(close, "expected ')'");
    return {
      kind: 'quantified',
      property: operand.name,
      items: operand.valueKind,
      quantifier,
      predicate,
      start: propertyToken.start,
      end: close.end,
    };
  }

  private literal(operator: CompareOperator): Literal {
    const token = this.take();
    if (operator === 'in' || operator === 'notin') {
      if (token.kind !== '[') this.fail(token, `expected a list such as ["DE","FR"] after -${operator}`);
      const values: string[] = [];
      for (;;) {
        const item = this.take();
        if (item.kind === ']' && values.length === 0) break;
        if (item.kind !== 'string' && item.kind !== 'word') this.fail(item, 'expected a quoted value');
        values.push(item.text);
        const after = this.take();
        if (after.kind === ']') break;
        if (after.kind !== ',') this.fail(after, "expected ',' or ']'");
      }
      return { kind: 'list', values };
    }
    if (token.kind === 'string') return { kind: 'string', value: token.text };
    if (token.kind === 'word') {
      const lower = token.text.toLowerCase();
      if (lower === 'null') {
        if (operator !== 'eq' && operator !== 'ne') {
          throw new RuleSyntaxError(token.start, `null is compared with -eq or -ne only, not -${operator}`);
        }
        return { kind: 'null' };
      }
      if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true' };
      // An unquoted number (an extension attribute holding digits) is the string it spells.
      if (/^[0-9][0-9.]*$/.test(token.text)) return { kind: 'string', value: token.text };
    }
    return this.fail(token, 'expected a quoted value, true, false or null');
  }
}

/** Parses a rule; never throws. */
export function parseMembershipRule(text: string): RuleParse {
  if (text.length > MAX_RULE_LENGTH) {
    return {
      ok: false,
      error: {
        position: MAX_RULE_LENGTH,
        message: `a rule has at most ${MAX_RULE_LENGTH} characters (this one has ${text.length})`,
      },
    };
  }
  try {
    return { ok: true, rule: new Parser(text, tokenize(text)).parse() };
  } catch (error: unknown) {
    if (error instanceof RuleSyntaxError)
      return { ok: false, error: { position: error.position, message: error.message } };
    throw error;
  }
}

/**
 * One expression of a rule and what it gave: Graph beta's `expressionEvaluationDetails` (the
 * `membershipRuleEvaluationDetails` of `evaluateDynamicMembership`), with the property a comparison read.
 */
export interface ExpressionEvaluationDetails {
  readonly expression: string;
  readonly expressionResult: boolean;
  readonly expressionEvaluationDetails: readonly ExpressionEvaluationDetails[];
  readonly propertyToEvaluate: {
    readonly propertyName: string;
    readonly propertyValue: string | null;
  } | null;
}

/** Whether the user or device these facts describe is a member under the rule. */
export function matchesRule(rule: MembershipRule, facts: RuleFacts): boolean {
  return evaluate(rule.root, facts, undefined);
}

/** Like `matchesRule`, expression by expression: what a what-if shows an admin. */
export function explainRule(rule: MembershipRule, facts: RuleFacts): ExpressionEvaluationDetails {
  return explain(rule, rule.root, facts);
}

function explain(rule: MembershipRule, node: RuleNode, facts: RuleFacts): ExpressionEvaluationDetails {
  const children =
    node.kind === 'and' || node.kind === 'or'
      ? [explain(rule, node.left, facts), explain(rule, node.right, facts)]
      : node.kind === 'not'
        ? [explain(rule, node.operand, facts)]
        : [];
  return {
    expression: rule.text.slice(node.start, node.end),
    expressionResult: evaluate(node, facts, undefined),
    expressionEvaluationDetails: children,
    propertyToEvaluate: propertyRead(rule.subject, node, facts),
  };
}

/** The subject's property a comparison (or a -any/-all) read, and its value as text. */
function propertyRead(
  subject: RuleSubject,
  node: RuleNode,
  facts: RuleFacts,
): ExpressionEvaluationDetails['propertyToEvaluate'] {
  if (node.kind === 'quantified') {
    const values = facts[node.property];
    const shown = Array.isArray(values)
      ? values.map((v: string | RulePlan) =>
          typeof v === 'string' ? v : `${v.servicePlanId}:${v.capabilityStatus}`,
        )
      : [];
    return { propertyName: `${subject}.${node.property}`, propertyValue: shown.join(',') };
  }
  if (node.kind !== 'compare' || node.operand.kind !== 'property') return null;
  return {
    propertyName: `${subject}.${node.operand.name}`,
    propertyValue: read(node.operand, facts, undefined),
  };
}

type Item = string | RulePlan | undefined;

function evaluate(node: RuleNode, facts: RuleFacts, item: Item): boolean {
  switch (node.kind) {
    case 'or':
      return evaluate(node.left, facts, item) || evaluate(node.right, facts, item);
    case 'and':
      return evaluate(node.left, facts, item) && evaluate(node.right, facts, item);
    case 'not':
      return !evaluate(node.operand, facts, item);
    case 'quantified': {
      const values = facts[node.property];
      const items: readonly Item[] = Array.isArray(values) ? values : [];
      return node.quantifier === 'any'
        ? items.some((one) => evaluate(node.predicate, facts, one))
        : items.every((one) => evaluate(node.predicate, facts, one));
    }
    case 'compare':
      return compare(node, read(node.operand, facts, item));
  }
}

/** A scalar as rules compare it: text, or null when the property has no value. */
function read(operand: Operand, facts: RuleFacts, item: Item): string | null {
  let value: unknown;
  if (operand.kind === 'item') value = item;
  else if (operand.kind === 'plan') value = typeof item === 'object' ? item[operand.field] : undefined;
  else value = facts[operand.name];
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'string' || value === '') return null;
  return value;
}

function compare(node: RuleNode & { kind: 'compare' }, value: string | null): boolean {
  const { operator, literal } = node;
  if (literal.kind === 'null') return operator === 'eq' ? value === null : value !== null;
  const negated = operator === 'ne' || operator.startsWith('not');
  if (value === null) return negated;
  const text = value.toLowerCase();
  const expected =
    literal.kind === 'boolean'
      ? String(literal.value)
      : literal.kind === 'string'
        ? literal.value.toLowerCase()
        : '';
  switch (operator) {
    case 'eq':
      return text === expected;
    case 'ne':
      return text !== expected;
    case 'startswith':
      return text.startsWith(expected);
    case 'notstartswith':
      return !text.startsWith(expected);
    case 'endswith':
      return text.endsWith(expected);
    case 'notendswith':
      return !text.endsWith(expected);
    case 'contains':
      return text.includes(expected);
    case 'notcontains':
      return !text.includes(expected);
    case 'match':
      return node.pattern?.test(value) ?? false;
    case 'notmatch':
      return !(node.pattern?.test(value) ?? false);
    case 'in':
      return literal.kind === 'list' && literal.values.some((v) => v.toLowerCase() === text);
    case 'notin':
      return literal.kind === 'list' && !literal.values.some((v) => v.toLowerCase() === text);
  }
}
