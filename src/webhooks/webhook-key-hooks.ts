import { appendAudit } from '../audit/audit.queries.ts';
import { onKeyRotated } from '../auth/key-hooks.ts';

/**
 * An endpoint delivers what its key may read; when the key is rotated the endpoint moves to the
 * successor, so deliveries go on after the old key's grace ends. Runs inside the rotation's
 * transaction (src/auth/key-hooks.ts); registered by src/area-listeners.ts.
 */
export function followRotatedKeys(): void {
  onKeyRotated('webhooks', async (trx, context, { oldKeyId, newKeyId, organisationId }) => {
    const moved = await trx
      .updateTable('webhook_endpoints')
      .set({ key_id: newKeyId })
      .where('key_id', '=', oldKeyId)
      .where('deleted_at', 'is', null)
      .returning('id')
      .execute();
    for (const { id } of moved) {
      await appendAudit(trx, context, {
        action: 'webhook.key_rotated',
        entityType: 'webhook',
        entityId: id,
        organisationId,
        before: { keyId: oldKeyId },
        after: { keyId: newKeyId },
      });
    }
  });
}
