/**
 * What the queue logs through: console and pino fit as they are. `debug` is
 * optional; messages are short and carry a context object as first argument
 * where there is one (pino's style) and never contain params or connection
 * strings.
 */
export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
}

/** A logger that drops everything: the default. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};
