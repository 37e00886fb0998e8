/**
 * The claim loop's sleep: sleeps until a timeout or a wake-up, whichever
 * comes first. A wake-up while nobody sleeps is kept, so the next sleep
 * returns at once and no add() between two claims is missed.
 */
export class WakeSignal {
  #wakeUp: (() => void) | undefined;
  #pending = false;

  /** Ends the current sleep now, or the next one as soon as it starts. */
  wake(): void {
    if (this.#wakeUp) this.#wakeUp();
    else this.#pending = true;
  }

  /** Sleeps `ms`, or until {@link wake}; returns at once after a kept wake-up or when `stopping`. */
  sleep(ms: number, stopping: boolean): Promise<void> {
    if (this.#pending || stopping) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }
}
