/**
 * How far behind a streaming replica is, in milliseconds, from WAL positions alone.
 *
 * `now() - pg_last_xact_replay_timestamp()` on the replica is the usual measure, but it grows
 * while the primary is idle (nothing new to replay looks like lag) and mixes two servers' clocks.
 * Instead the primary's WAL position is sampled every poll; a replica that has replayed up to
 * `replayed` is as far behind as the time since the primary first went past that position. So
 * an idle pair shows 0, and the figure is exact to one poll interval, on this process's clock.
 */

/** A WAL position ('16/B374D848') as a number of bytes. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  if (!match) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

export interface PrimarySample {
  /** performance.now() when the poll that read it started. */
  at: number;
  lsn: bigint;
}

/**
 * The primary's recent positions, oldest first, kept for as long as lag can matter: a replica
 * behind every kept sample is at least as far behind as the oldest, already beyond the limit.
 */
export class PrimaryPositions {
  readonly #samples: PrimarySample[] = [];
  readonly #keepMs: number;

  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  add(sample: PrimarySample): void {
    this.#samples.push(sample);
    while (this.#samples.length > 2 && sample.at - this.#samples[0]!.at > this.#keepMs) this.#samples.shift();
  }

  get latest(): PrimarySample | undefined {
    return this.#samples.at(-1);
  }

  /**
   * The lag of a replica that had replayed `replayed` at time `at`: 0 when it had everything the
   * primary had at its latest sample, else the time since the first sample past its position.
   * Undefined before the primary has been sampled at all.
   */
  lagMs(replayed: bigint, at: number): number | undefined {
    if (!this.#samples.length) return undefined;
    const ahead = this.#samples.find((sample) => sample.lsn > replayed);
    return ahead ? Math.max(0, at - ahead.at) : 0;
  }
}
