/**
 * Batches in order, each read while the one before is being written: PostgreSQL works on the
 * next batch while Node formats and sends this one, on the other core. One batch ahead at most,
 * so memory stays flat. `readAfter` gives the read of the batch after `batch`, or undefined at
 * the end. The read ahead is awaited when the export stops early, so that it does not fail after
 * its transaction ends with nobody to hear it.
 */
export async function* readAhead<Batch>(
  first: () => Promise<Batch>,
  readAfter: (batch: Batch) => (() => Promise<Batch>) | undefined,
): AsyncGenerator<Batch> {
  let next: Promise<Batch> | undefined = first();
  try {
    while (next) {
      const batch: Batch = await next;
      next = readAfter(batch)?.();
      yield batch;
    }
  } finally {
    await next?.catch(() => undefined);
  }
}
