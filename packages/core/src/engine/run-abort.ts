/**
 * A run's abort switch: what `ctx.signal` reports, with the `AbortSignal` made
 * only when something reads it. Nearly every run ends without an abort and most
 * handlers never look at `ctx.signal`; an `AbortController` and its signal per
 * run were 4 µs of a no-op job's ~60 µs of worker CPU. Aborting before the
 * signal exists records the reason, and the signal, once made, starts aborted.
 */
export class RunAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  /** The run's `ctx.signal`. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts once; later calls change nothing (as `AbortController.abort`). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
