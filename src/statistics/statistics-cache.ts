import { viewerKey, type Actor } from '../auth/actor.ts';

/**
 * Statistics over a large dataset are expensive and asked again and again (dashboards, several
 * researchers citing the same figure). Results are kept per data version, viewer and query, so
 * they can never be stale: any write bumps the data version and makes a new key. A small LRU
 * in each process bounds memory; with several processes each keeps its own.
 */
export class StatisticsCache<T> {
  readonly #entries = new Map<string, T>();
  readonly #capacity: number;

  constructor(capacity = 200) {
    this.#capacity = capacity;
  }

  key(dataVersion: number, actor: Actor, query: unknown): string {
    return `${dataVersion}|${viewerKey(actor)}|${JSON.stringify(query)}`;
  }

  async get(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key); // re-insert: Map order is the LRU order
      this.#entries.set(key, hit);
      return hit;
    }
    const value = await compute();
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }
}
