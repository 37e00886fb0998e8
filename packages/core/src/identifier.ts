import { InvalidIdentifierError } from "./errors.js";

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Returns `value` if it is a plain SQL identifier (what every supported
 * database accepts unquoted and what fits MySQL's 64-character limit), else
 * throws {@link InvalidIdentifierError}. Table names are interpolated into SQL,
 * so nothing else may pass.
 */
export function assertIdentifier(what: string, value: unknown): string {
  if (typeof value !== "string" || !PLAIN_IDENTIFIER.test(value)) {
    throw new InvalidIdentifierError(what, value);
  }
  return value;
}
