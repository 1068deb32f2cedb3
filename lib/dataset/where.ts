// The --where language: a small, safe expression language over a graded row (no eval).
//
//   expr    := or
//   or      := and (('or' | '||') and)*
//   and     := not (('and' | '&&') not)*
//   not     := ('not' | '!') not | primary
//   primary := '(' expr ')' | operand (op operand)?
//   op      := '<' | '<=' | '>' | '>=' | '==' | '=' | '!='
//   operand := number | 'string' | "string" | true | false | null | name
//
// A name is looked up in the clip's scores first (snrDb, speechSec…), then among voxqc's own
// fields (grade, id…), then in the input row (duration, language…); dots reach inside objects
// (scores.snrDb, voxqc.grade). `has(flag)` is true when the clip has that flag. A comparison with a
// missing value (or a non-number against a number) is false, so `snrDb > 15` drops clips with no
// snrDb and `not snrDb > 15` keeps them. A bare name is true when its value is true or a non-zero
// number.
import { VoxqcError } from '../errors.js';

type Value = number | string | boolean | null | undefined;
type Node =
  | { t: 'or' | 'and'; a: Node; b: Node }
  | { t: 'not'; a: Node }
  | { t: 'cmp'; op: string; a: Operand; b: Operand }
  | { t: 'truthy'; a: Operand }
  | { t: 'has'; flag: string };
type Operand = { t: 'lit'; v: Value } | { t: 'name'; path: string[] };

interface Token {
  k: 'num' | 'str' | 'name' | 'op' | '(' | ')' | ',' | 'end';
  v: string;
  at: number;
}

function fail(src: string, at: number, what: string): never {
  throw new VoxqcError('ERR_INVALID_ARG', `--where: ${what} at column ${at + 1} in '${src}'`);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(rest))) {
      out.push({ k: 'num', v: m[0], at: i });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) fail(src, i, 'unterminated string');
      out.push({ k: 'str', v: src.slice(i + 1, end), at: i });
      i = end + 1;
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest))) {
      out.push({ k: 'name', v: m[0], at: i });
      i += m[0].length;
    } else if ((m = /^(?:<=|>=|==|!=|&&|\|\||<|>|=|!)/.exec(rest))) {
      out.push({ k: 'op', v: m[0], at: i });
      i += m[0].length;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ k: c, v: c, at: i });
      i++;
    } else {
      fail(src, i, `unexpected '${c}'`);
    }
  }
  out.push({ k: 'end', v: '', at: src.length });
  return out;
}

const CMP = new Set(['<', '<=', '>', '>=', '==', '=', '!=']);

function parse(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const isWord = (w: string) => peek().k === 'name' && peek().v.toLowerCase() === w;
  const isOp = (o: string) => peek().k === 'op' && peek().v === o;

  const orExpr = (): Node => {
    let a = andExpr();
    while (isWord('or') || isOp('||')) {
      p++;
      a = { t: 'or', a, b: andExpr() };
    }
    return a;
  };
  const andExpr = (): Node => {
    let a = notExpr();
    while (isWord('and') || isOp('&&')) {
      p++;
      a = { t: 'and', a, b: notExpr() };
    }
    return a;
  };
  const notExpr = (): Node => {
    if (isWord('not') || isOp('!')) {
      p++;
      return { t: 'not', a: notExpr() };
    }
    return primary();
  };
  const operand = (): Operand => {
    const tok = peek();
    if (tok.k === 'num') {
      p++;
      return { t: 'lit', v: Number(tok.v) };
    }
    if (tok.k === 'str') {
      p++;
      return { t: 'lit', v: tok.v };
    }
    if (tok.k === 'name') {
      const w = tok.v.toLowerCase();
      if (['and', 'or', 'not'].includes(w)) fail(src, tok.at, `expected a value, found '${tok.v}'`);
      p++;
      if (w === 'true') return { t: 'lit', v: true };
      if (w === 'false') return { t: 'lit', v: false };
      if (w === 'null') return { t: 'lit', v: null };
      return { t: 'name', path: tok.v.split('.') };
    }
    fail(src, tok.at, tok.k === 'end' ? 'unexpected end of expression' : `expected a value, found '${tok.v}'`);
  };
  const primary = (): Node => {
    if (peek().k === '(') {
      p++;
      const e = orExpr();
      if (peek().k !== ')') fail(src, peek().at, "expected ')'");
      p++;
      return e;
    }
    if (peek().k === 'name' && peek().v === 'has' && toks[p + 1]?.k === '(') {
      p += 2;
      const arg = peek();
      if (arg.k !== 'str' && arg.k !== 'name') fail(src, arg.at, 'has() takes a flag name');
      p++;
      if (peek().k !== ')') fail(src, peek().at, "expected ')' after the flag name");
      p++;
      return { t: 'has', flag: arg.v };
    }
    const a = operand();
    if (peek().k === 'op' && CMP.has(peek().v)) {
      const op = peek().v;
      p++;
      return { t: 'cmp', op: op === '=' ? '==' : op, a, b: operand() };
    }
    return { t: 'truthy', a };
  };
  const e = orExpr();
  if (peek().k !== 'end') fail(src, peek().at, `unexpected '${peek().v}'`);
  return e;
}

function lookup(row: Record<string, unknown>, path: string[]): Value {
  const v = (row.voxqc ?? {}) as Record<string, unknown>;
  const scores = (v.scores ?? {}) as Record<string, unknown>;
  const roots: Record<string, unknown>[] =
    path[0] === 'voxqc' ? [row] : path[0] === 'scores' ? [v] : [scores, v, row];
  for (const root of roots) {
    let cur: unknown = root;
    for (const key of path) {
      if (typeof cur !== 'object' || cur === null || !(key in (cur as object))) {
        cur = undefined;
        break;
      }
      cur = (cur as Record<string, unknown>)[key];
    }
    if (cur !== undefined) return typeof cur === 'object' && cur !== null ? undefined : (cur as Value);
  }
  return undefined;
}

function compare(op: string, a: Value, b: Value): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === null || b === null) return op === '==' ? a === b : op === '!=' ? a !== b : false;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = typeof a === 'number' ? a : typeof a === 'string' && a.trim() !== '' ? Number(a) : NaN;
    const y = typeof b === 'number' ? b : typeof b === 'string' && b.trim() !== '' ? Number(b) : NaN;
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : op === '>=' ? x >= y : op === '==' ? x === y : x !== y;
  }
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (typeof a === 'string' && typeof b === 'string') return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
  return false;
}

function evaluate(n: Node, row: Record<string, unknown>): boolean {
  switch (n.t) {
    case 'or':
      return evaluate(n.a, row) || evaluate(n.b, row);
    case 'and':
      return evaluate(n.a, row) && evaluate(n.b, row);
    case 'not':
      return !evaluate(n.a, row);
    case 'has': {
      const flags = (row.voxqc as { flags?: unknown } | undefined)?.flags;
      return Array.isArray(flags) && flags.includes(n.flag);
    }
    case 'truthy': {
      const v = n.a.t === 'lit' ? n.a.v : lookup(row, n.a.path);
      return v === true || (typeof v === 'number' && v !== 0 && !Number.isNaN(v));
    }
    case 'cmp': {
      const a = n.a.t === 'lit' ? n.a.v : lookup(row, n.a.path);
      const b = n.b.t === 'lit' ? n.b.v : lookup(row, n.b.path);
      return compare(n.op, a, b);
    }
  }
}

/** Compiles a --where expression into a predicate over graded rows. Throws ERR_INVALID_ARG with the column of a syntax error. */
export function compileWhere(src: string): (row: Record<string, unknown>) => boolean {
  if (typeof src !== 'string' || src.trim() === '') throw new VoxqcError('ERR_INVALID_ARG', '--where: expected an expression such as "snrDb > 15"');
  const ast = parse(src);
  return (row) => evaluate(ast, row);
}
