/**
 * A check run on a notification (the token store changed), one at a time: notifications that
 * arrive while it runs make it run once more after, not once each (a burst of file-system
 * events for one save is one look at the store).
 */
export class CoalescedCheck {
  readonly #check: () => Promise<void>;
  #running = false;
  #again = false;

  constructor(check: () => Promise<void>) {
    this.#check = check;
  }

  notify(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      do {
        this.#again = false;
        await this.#check().catch(() => undefined);
      } while (this.#again);
    } finally {
      this.#running = false;
    }
  }
}
