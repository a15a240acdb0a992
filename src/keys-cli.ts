import { listenAcrossAreas } from './area-listeners.ts';

/**
 * `npm run keys`: the key command (src/auth/keys-cli.ts) with the same listeners as the API, so
 * a key rotated here takes its access groups and webhook endpoints along, as over HTTP. The
 * command is loaded after the listeners are registered: it runs as soon as it is loaded.
 */
listenAcrossAreas();
await import('./auth/keys-cli.ts');
