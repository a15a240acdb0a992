import type { Reply } from './http.ts';

/**
 * Closed-loop load from this process: `clients` loops, each awaiting its own requests, so the
 * request rate is whatever the API sustains. The API runs in its own process (the real server),
 * so the two do not share an event loop. Every reply is recorded by kind, for the figures.
 */
export async function runClients(clients: number, until: () => boolean, step: (client: number) => Promise<unknown>): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (!until()) await step(client);
    }),
  );
}

/** A deadline `seconds` from now, for runClients. */
export function deadline(seconds: number): () => boolean {
  const end = performance.now() + seconds * 1000;
  return () => performance.now() >= end;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Recorder {
  readonly latencies: number[] = [];
  /** "200", "429", "503 database-unavailable", "ECONNRESET", ... */
  readonly outcomes = new Map<string, number>();
  readonly byKind = new Map<string, number[]>();

  private count = 0;

  /** Latencies are of answers only: a refused connection takes no time and would flatter them. */
  record(kind: string, reply: Reply): Reply {
    this.count++;
    const outcome = outcomeOf(reply);
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    if (reply.status === 0) return reply;
    this.latencies.push(reply.ms);
    const latencies = this.byKind.get(kind) ?? [];
    latencies.push(reply.ms);
    this.byKind.set(kind, latencies);
    return reply;
  }

  get total(): number {
    return this.count;
  }

  /** "list 4,120, p50 12 ms, p99 80 ms; get ..." */
  describeKinds(): string {
    return [...this.byKind]
      .map(
        ([kind, values]) =>
          `${kind} ${values.length.toLocaleString('en')}, p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms`,
      )
      .join('; ');
  }

  /** Answers that are neither 2xx/3xx nor expected (by default: 429), network errors included. */
  unexpected(expected: (outcome: string) => boolean = (outcome) => outcome.startsWith('429')): number {
    let count = 0;
    for (const [outcome, n] of this.outcomes) if (!/^[23]\d\d$/.test(outcome) && !expected(outcome)) count += n;
    return count;
  }

  percentile(p: number): number {
    return percentile(this.latencies, p);
  }

  describeOutcomes(): string {
    return describeCounts(this.outcomes);
  }
}

/** "200", "429 rate-limited", "503 database-unavailable", or the network error ("ECONNRESET"). */
export function outcomeOf(reply: Reply): string {
  if (reply.status === 0) return String(reply.networkError);
  if (reply.status < 400) return String(reply.status);
  return `${reply.status} ${String(reply.body?.type ?? '').replace('/problems/', '')}`.trim();
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function describeCounts(counts: Map<string, number>): string {
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name}: ${n.toLocaleString('en')}`)
    .join(', ');
}
