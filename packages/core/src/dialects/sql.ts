import type { DB, Row, SqlValue } from "../db.js";
import { assertIdentifier } from "../identifier.js";

/** A table or column name, validated as a plain identifier and quoted by the dialect. */
export class Identifier {
  readonly name: string;
  constructor(name: string) {
    this.name = assertIdentifier("identifier", name);
  }
}

/** Trusted SQL text written by core (never user input), spliced in as is. */
export class RawSql {
  constructor(readonly text: string) {}
}

/** A piece of SQL with its parameters, built with the `sql` tag. */
export class SqlFragment {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly SqlPart[],
  ) {}
}

/** What may be interpolated into the `sql` tag. Plain values become bound parameters. */
export type SqlPart = SqlValue | Identifier | RawSql | SqlFragment | readonly SqlValue[];

/** A statement ready for `DB.exec` / `DB.query`: text in the dialect's placeholder style, and its parameters. */
export interface CompiledSql {
  readonly text: string;
  readonly params: SqlValue[];
}

/**
 * Tagged template for statements. Interpolated plain values become bound
 * parameters (an array becomes a comma-separated list of them, for `IN (…)`),
 * {@link Identifier}s are quoted, {@link RawSql} and nested fragments are
 * spliced in. Placeholders are numbered at compile time by the dialect, so no
 * statement counts `$1, $2, …` by hand.
 */
export function sql(strings: TemplateStringsArray, ...values: SqlPart[]): SqlFragment {
  return new SqlFragment(strings, values);
}

/** Shorthand for a quoted identifier part. */
export const ident = (name: string): Identifier => new Identifier(name);
/** Shorthand for trusted raw SQL text. */
export const raw = (text: string): RawSql => new RawSql(text);

/** Joins fragments with a separator (default `, `). */
export function join(parts: readonly SqlFragment[], separator = ", "): SqlFragment {
  if (parts.length === 0) return new SqlFragment([""], []);
  const strings: string[] = [""];
  const values: SqlPart[] = [];
  parts.forEach((part, i) => {
    if (i > 0) strings[strings.length - 1] += separator;
    values.push(part);
    strings.push("");
  });
  return new SqlFragment(strings, values);
}

/** The hooks compilation needs from a dialect. */
export interface PlaceholderStyle {
  /** The placeholder for the n-th parameter (1-based): `?` or `$n`. */
  placeholder(n: number): string;
  /** Quotes a validated identifier. */
  quoteIdent(name: string): string;
}

/** Turns a fragment into text and parameters for one dialect. */
export function compile(fragment: SqlFragment, style: PlaceholderStyle): CompiledSql {
  const params: SqlValue[] = [];
  const text = render(fragment, style, params);
  return { text, params };
}

function render(fragment: SqlFragment, style: PlaceholderStyle, params: SqlValue[]): string {
  let out = fragment.strings[0] ?? "";
  fragment.values.forEach((value, i) => {
    out += renderPart(value, style, params) + (fragment.strings[i + 1] ?? "");
  });
  return out;
}

function renderPart(value: SqlPart, style: PlaceholderStyle, params: SqlValue[]): string {
  if (value instanceof SqlFragment) return render(value, style, params);
  if (value instanceof Identifier) return style.quoteIdent(value.name);
  if (value instanceof RawSql) return value.text;
  if (Array.isArray(value)) {
    if (value.length === 0) return "NULL"; // `x IN (NULL)` matches nothing, as an empty list should
    return value
      .map((v: SqlValue) => {
        params.push(v);
        return style.placeholder(params.length);
      })
      .join(", ");
  }
  params.push(value as SqlValue);
  return style.placeholder(params.length);
}

/** Compiles a fragment for the dialect and runs it with `db.exec`. */
export function execSql(db: DB, style: PlaceholderStyle, fragment: SqlFragment) {
  const { text, params } = compile(fragment, style);
  return db.exec(text, params);
}

/** Compiles a fragment for the dialect and runs it with `db.query`. */
export function querySql<T extends Row = Row>(
  db: DB,
  style: PlaceholderStyle,
  fragment: SqlFragment,
): Promise<T[]> {
  const { text, params } = compile(fragment, style);
  return db.query<T>(text, params);
}
