// HTTP route templates as the Functions host (ASP.NET Core routing) reads them:
//   literal segments, `{id}`, `{id?}`, `{id=default}`, `{id:int}`, `{id:guid:...}`, `{*rest}` catch-all,
//   complex segments such as `{name}.{ext}`; matched case-insensitively.
// Precedence follows ASP.NET's RoutePrecedence: per segment, literal (1) < complex or constrained parameter
// (2) < parameter (3) < constrained catch-all (4) < catch-all (5); the lower sequence wins, a route that ends
// earlier wins over a longer one, and ties keep registration order. So `users/delta` beats `users/{id}`.

export type Constraint = (value: string) => boolean;

interface ParameterPart {
  kind: 'parameter';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: Constraint[];
}

interface LiteralPart {
  kind: 'literal';
  text: string;
}

type Part = ParameterPart | LiteralPart;

export interface CompiledRoute<T> {
  template: string;
  methods: Set<string>;
  target: T;
  precedence: number[];
  order: number;
  regexp: RegExp;
  parameters: ParameterPart[];
}

export interface RouteMatch<T> {
  route: CompiledRoute<T>;
  params: Record<string, string>;
}

const constraintFactories: Record<string, (args: string[]) => Constraint> = {
  int: () => (v) => /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) && Math.abs(Number(v)) <= 2 ** 31,
  long: () => (v) => /^-?\d+$/.test(v),
  bool: () => (v) => /^(true|false)$/i.test(v),
  guid: () => (v) => /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[)}]?$/i.test(v),
  alpha: () => (v) => /^[a-z]+$/i.test(v),
  double: () => isDecimal,
  float: () => isDecimal,
  decimal: () => isDecimal,
  datetime: () => (v) => !Number.isNaN(Date.parse(v)),
  min:
    ([n]) =>
    (v) =>
      /^-?\d+$/.test(v) && Number(v) >= Number(n),
  max:
    ([n]) =>
    (v) =>
      /^-?\d+$/.test(v) && Number(v) <= Number(n),
  range:
    ([a, b]) =>
    (v) =>
      /^-?\d+$/.test(v) && Number(v) >= Number(a) && Number(v) <= Number(b),
  length:
    ([a, b]) =>
    (v) =>
      b === undefined ? v.length === Number(a) : v.length >= Number(a) && v.length <= Number(b),
  minlength:
    ([n]) =>
    (v) =>
      v.length >= Number(n),
  maxlength:
    ([n]) =>
    (v) =>
      v.length <= Number(n),
  regex: ([pattern]) => {
    const re = new RegExp(pattern ?? '', 'i');
    return (v) => re.test(v);
  },
  required: () => (v) => v !== '',
};

function isDecimal(v: string): boolean {
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v);
}

function parseConstraint(text: string, template: string): Constraint {
  const match = /^([a-z]+)(?:\((.*)\))?$/is.exec(text);
  const factory = match?.[1] ? constraintFactories[match[1].toLowerCase()] : undefined;
  if (!match || !factory) {
    throw new Error(`Route "${template}": unknown route constraint "${text}".`);
  }
  const args =
    match[1]?.toLowerCase() === 'regex' ? [match[2] ?? ''] : (match[2] ?? '').split(',').map((s) => s.trim());
  return factory(args);
}

/** Splits `{name:c1:c2(x)=default}` (without braces) into its pieces; constraint arguments may contain ':'. */
function parseParameter(body: string, template: string): ParameterPart {
  let text = body.trim();
  const catchAll = text.startsWith('*');
  if (catchAll) text = text.replace(/^\*+/, '');
  let defaultValue: string | undefined;
  const pieces: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth === 0 && ch === ':') {
      pieces.push(current);
      current = '';
    } else if (depth === 0 && ch === '=' && defaultValue === undefined) {
      defaultValue = text.slice(i + 1);
      break;
    } else current += ch;
  }
  pieces.push(current);
  let [name = '', ...constraintTexts] = pieces;
  let optional = false;
  const last = constraintTexts.length > 0 ? constraintTexts.length - 1 : -1;
  if (last >= 0 && constraintTexts[last]?.endsWith('?')) {
    constraintTexts[last] = constraintTexts[last]?.slice(0, -1) ?? '';
    optional = true;
  } else if (name.endsWith('?')) {
    name = name.slice(0, -1);
    optional = true;
  }
  if (!/^[^{}/?*=:]+$/.test(name)) throw new Error(`Route "${template}": invalid parameter "{${body}}".`);
  return {
    kind: 'parameter',
    name,
    // A parameter with a default may be left out of the URL, like an optional one.
    optional: optional || catchAll || defaultValue !== undefined,
    catchAll,
    defaultValue,
    constraints: constraintTexts.map((c) => parseConstraint(c, template)),
  };
}

function parseSegment(segment: string, template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < segment.length) {
    if (segment.startsWith('{{', i)) {
      pushLiteral(parts, '{');
      i += 2;
    } else if (segment.startsWith('}}', i)) {
      pushLiteral(parts, '}');
      i += 2;
    } else if (segment[i] === '{') {
      // Inside a parameter, `{{` and `}}` stand for literal braces (e.g. in a regex constraint).
      let close = i + 1;
      while (close < segment.length) {
        if (segment.startsWith('{{', close) || segment.startsWith('}}', close)) close += 2;
        else if (segment[close] === '}') break;
        else close++;
      }
      if (close >= segment.length) throw new Error(`Route "${template}": unclosed "{".`);
      const body = segment
        .slice(i + 1, close)
        .replace(/\{\{/g, '{')
        .replace(/\}\}/g, '}');
      parts.push(parseParameter(body, template));
      i = close + 1;
    } else {
      pushLiteral(parts, segment[i] ?? '');
      i++;
    }
  }
  return parts;
}

function pushLiteral(parts: Part[], text: string): void {
  const last = parts[parts.length - 1];
  if (last?.kind === 'literal') last.text += text;
  else parts.push({ kind: 'literal', text });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function precedenceDigit(parts: Part[]): number {
  if (parts.length > 1) return 2;
  const part = parts[0];
  if (!part || part.kind === 'literal') return 1;
  const digit = part.catchAll ? 5 : 3;
  return part.constraints.length > 0 ? digit - 1 : digit;
}

export function compileRoute<T>(
  template: string,
  methods: string[],
  target: T,
  order: number,
): CompiledRoute<T> {
  const cleaned = template.replace(/^[~/]+|\/+$/g, '');
  const segments = cleaned === '' ? [] : cleaned.split('/').map((s) => parseSegment(s, template));
  const parameters: ParameterPart[] = [];
  let source = '';
  segments.forEach((parts, index) => {
    const isLast = index === segments.length - 1;
    const slash = index === 0 ? '' : '/';
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === 'parameter') {
      if ((only.catchAll || only.optional) && !isLast) {
        throw new Error(`Route "${template}": a catch-all or optional parameter must be the last segment.`);
      }
      parameters.push(only);
      const capture = only.catchAll ? '(.*)' : '([^/]+)';
      source += only.optional ? `(?:${slash}${capture})?` : `${slash}${capture}`;
      return;
    }
    source += slash;
    for (const part of parts) {
      if (part.kind === 'literal') source += escapeRegExp(part.text);
      else {
        if (part.catchAll) throw new Error(`Route "${template}": a catch-all must be a whole segment.`);
        parameters.push(part);
        source += part.optional ? '([^/]*?)' : '([^/]+?)';
      }
    }
  });
  return {
    template: cleaned,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    target,
    precedence: segments.map(precedenceDigit),
    order,
    regexp: new RegExp(`^${source}$`, 'i'),
    parameters,
  };
}

export function comparePrecedence<T>(a: CompiledRoute<T>, b: CompiledRoute<T>): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const da = a.precedence[i] ?? 0;
    const db = b.precedence[i] ?? 0;
    if (da !== db) return da - db;
  }
  return a.order - b.order;
}

/** An ordered route table. `match` returns the first route (by precedence) whose path, constraints and method fit. */
export class RouteTable<T> {
  private readonly routes: CompiledRoute<T>[] = [];

  add(template: string, methods: string[], target: T): CompiledRoute<T> {
    const route = compileRoute(template, methods, target, this.routes.length);
    this.routes.push(route);
    this.routes.sort(comparePrecedence);
    return route;
  }

  list(): readonly CompiledRoute<T>[] {
    return this.routes;
  }

  /** `path` is the part after the route prefix, without leading slash and still percent-encoded. */
  match(path: string, method: string): RouteMatch<T> | undefined {
    const trimmed = path.replace(/^\/+|\/+$/g, '');
    const upper = method.toUpperCase();
    for (const route of this.routes) {
      if (!route.methods.has(upper)) continue;
      const params = matchRoute(route, trimmed);
      if (params) return { route, params };
    }
    return undefined;
  }
}

function matchRoute<T>(route: CompiledRoute<T>, path: string): Record<string, string> | undefined {
  const match = route.regexp.exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.parameters.length; i++) {
    const parameter = route.parameters[i];
    if (!parameter) continue;
    const raw = match[i + 1];
    if (raw === undefined || raw === '') {
      if (!parameter.optional && parameter.defaultValue === undefined) return undefined;
      if (parameter.defaultValue !== undefined) params[parameter.name] = parameter.defaultValue;
      continue;
    }
    let value: string;
    try {
      value = parameter.catchAll ? raw.split('/').map(decodeURIComponent).join('/') : decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (!parameter.constraints.every((check) => check(value))) return undefined;
    params[parameter.name] = value;
  }
  return params;
}
