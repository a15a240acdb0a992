import { listenAcrossAreas } from '../src/area-listeners.ts';
import { benchImports } from './imports.ts';

/**
 * Scenario i alone, at another size or batch size, without the 1M dataset (not run by npm run bench):
 *   node --experimental-strip-types bench/import-ratio.ts [ROWS] [ROWS_PER_BATCH]
 */
listenAcrossAreas();
const [rows, chunkSize] = [process.argv[2], process.argv[3]].map((value) => (value ? Number(value) : undefined));
if (chunkSize) console.log(`Batches of ${chunkSize} rows (runImport's chunkSize).`);
await benchImports(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', rows ?? 20_000, chunkSize);
