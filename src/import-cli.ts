import { listenAcrossAreas } from './area-listeners.ts';

/**
 * `npm run import`: the import command (src/imports/import-cli.ts) in a process of its own, with
 * the same listeners as the API, so its incidents are flagged as likely duplicates and its
 * publications and the completed import reach webhook endpoints. The command is loaded after
 * the listeners are registered: it runs as soon as it is loaded.
 */
listenAcrossAreas();
await import('./imports/import-cli.ts');
