import { appendAudit } from '../audit/audit.queries.ts';
import { onKeyRotated } from '../auth/key-hooks.ts';

/**
 * A rotated key's successor is the same person with a new secret, so it joins the groups the old
 * key was in (the old key stays in them until its grace ends and it stops working). Runs inside
 * the rotation's transaction (src/auth/key-hooks.ts); registered by src/area-listeners.ts.
 */
export function followRotatedKeys(): void {
  onKeyRotated('access-groups', async (trx, context, { oldKeyId, newKeyId, organisationId }) => {
    const joined = await trx
      .insertInto('access_group_members')
      .columns(['group_id', 'key_id'])
      .expression((eb) =>
        eb
          .selectFrom('access_group_members')
          .select(['group_id', eb.val(newKeyId).as('key_id')])
          .where('key_id', '=', oldKeyId),
      )
      .returning('group_id')
      .execute();
    if (!joined.length) return;
    await appendAudit(trx, context, {
      action: 'access_group.add_member',
      entityType: 'organisation',
      entityId: organisationId,
      organisationId,
      before: null,
      after: { keyId: newKeyId, rotatedFrom: oldKeyId, groupIds: joined.map((row) => row.group_id) },
    });
  });
}
