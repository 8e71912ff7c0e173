// A first-in first-out queue with O(1) shift. Array.prototype.shift moves every element once
// an array is large: at 100,000 queued Mailbox keys one shift took ~200 µs here (2 % of the
// operator's CPU at a 5,000-MailDomain onboarding, in the work queue's #next).
export class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  /** Slots held, consumed ones included (what compaction bounds). */
  get capacity(): number {
    return this.#items.length;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // let it go now, not at the next compaction
    // Drop the consumed front once it is most of the array: amortised O(1), memory bounded.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
