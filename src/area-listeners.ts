import { followRotatedKeys as groupsFollowRotatedKeys } from './access-groups/access-group-hooks.ts';
import { listenToIncidentWrites } from './duplicates/duplicate-hooks.ts';
import { listenForWithdrawals } from './feeds/feed-hooks.ts';
import { listenForWebhookEvents } from './webhooks/webhook-hooks.ts';
import { followRotatedKeys as webhooksFollowRotatedKeys } from './webhooks/webhook-key-hooks.ts';

/**
 * Which areas listen to incident writes (src/incidents/incident-hooks.ts): duplicates flag new
 * incidents, the feed records withdrawals, webhooks write their outbox. Every process that writes
 * incidents registers them, the API (app.ts) and the import CLI (import-cli.ts) alike, so an
 * import on the server announces the same events as one over HTTP. Registering twice changes
 * nothing. A rotated key (src/auth/key-hooks.ts) takes its access groups and webhook endpoints
 * with it, from the API and from `npm run keys -- rotate` (src/keys-cli.ts) alike.
 */
export function listenAcrossAreas(): void {
  listenToIncidentWrites();
  listenForWithdrawals();
  listenForWebhookEvents();
  groupsFollowRotatedKeys();
  webhooksFollowRotatedKeys();
}
