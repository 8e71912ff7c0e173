// A map that forgets what was not used lately, without a timestamp per entry: entries live in
// two generations, and a new generation starts when the current one is full or old enough, the
// previous one then dropped whole. An entry is kept between one and two generations after it
// was last set (or kept). The informers' string pool and the MailDomain caches' version twins
// both bound what they hold this way.

export interface GenerationalMapOptions<K, V> {
  /** How long one generation lasts, in ms. */
  generationMs: number;
  /** At most this many entries in the current generation before a new one starts. */
  maxPerGeneration?: number;
  now?: () => number;
  /** The key a value is set under again when `keep` moves it to the current generation. A
   *  string pool keys its strings by themselves: the map must then keep its own copy as the
   *  key, not the equal one the caller looked it up with. By default, the caller's key. */
  keyOf?: (value: V) => K;
}

export class GenerationalMap<K, V> {
  #current = new Map<K, V>();
  #previous = new Map<K, V>();
  #generationStarted: number;
  readonly #generationMs: number;
  readonly #maxPerGeneration: number;
  readonly #now: () => number;
  readonly #keyOf: ((value: V) => K) | undefined;

  constructor(opts: GenerationalMapOptions<K, V>) {
    this.#generationMs = opts.generationMs;
    this.#maxPerGeneration = opts.maxPerGeneration ?? Infinity;
    this.#now = opts.now ?? Date.now;
    this.#keyOf = opts.keyOf;
    this.#generationStarted = this.#now();
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  has(key: K): boolean {
    return this.#current.has(key) || this.#previous.has(key);
  }

  /** The value, if its generation is not over (looking does not keep it longer). */
  get(key: K): V | undefined {
    this.#startGenerationIfDue();
    return this.#current.get(key) ?? this.#previous.get(key);
  }

  /** The value, kept for another generation when it was in the previous one. A hit in the
   *  current generation reads no clock: the string pool's hot path. */
  keep(key: K): V | undefined {
    const hit = this.#current.get(key);
    if (hit !== undefined) return hit;
    const kept = this.#previous.get(key);
    if (kept === undefined) return undefined;
    this.#previous.delete(key);
    this.set(this.#keyOf ? this.#keyOf(kept) : key, kept);
    return kept;
  }

  set(key: K, value: V): void {
    this.#startGenerationIfDue();
    this.#previous.delete(key);
    this.#current.set(key, value);
  }

  delete(key: K): void {
    this.#current.delete(key);
    this.#previous.delete(key);
  }

  #startGenerationIfDue(): void {
    if (this.#current.size < this.#maxPerGeneration && this.#now() - this.#generationStarted < this.#generationMs) return;
    this.#previous = this.#current;
    this.#current = new Map();
    this.#generationStarted = this.#now();
  }
}
