import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { decrypt, encrypt } from './aes-gcm.ts';
import { EncryptionKeyError } from './key-encryption-key.ts';

/**
 * The keys in use, in this process: the data keys of data_keys, unwrapped once at start-up with
 * the key-encryption key (KEK), and the blind-index key. The newest data key that is not
 * retired seals new values; every data key opens them. Held in memory only.
 *
 * One process serves one database, so the keyring is module state: values are sealed and opened
 * deep inside queries and shapes (synchronously, as node:crypto is), which would otherwise all
 * need a keyring argument.
 */
export type KeyPurpose = 'data' | 'blind_index';

interface KeyringState {
  kek: Buffer;
  dataKeys: Map<number, Buffer>;
  activeId: number;
  indexKey: Buffer;
}

let state: KeyringState | undefined;

const BLIND_INDEX_KEY_ID = 0;
const wrapContext = (id: number, purpose: KeyPurpose) => `data_keys/${purpose}/${id}`;

export function wrapKey(kek: Buffer, id: number, purpose: KeyPurpose, key: Buffer): string {
  const { nonce, body } = encrypt(kek, key, wrapContext(id, purpose));
  return `${nonce.toString('base64url')}.${body.toString('base64url')}`;
}

export function unwrapKey(kek: Buffer, id: number, purpose: KeyPurpose, wrapped: string): Buffer {
  const [nonce = '', body = ''] = wrapped.split('.');
  try {
    return decrypt(kek, { nonce: Buffer.from(nonce, 'base64url'), body: Buffer.from(body, 'base64url') }, wrapContext(id, purpose));
  } catch {
    throw new EncryptionKeyError(
      `The data encryption key (DATA_ENCRYPTION_KEY or its file) cannot unwrap data key ${id} stored in this database: ` +
        'it is not the key this database was encrypted with. Start with the key it was created with ' +
        '(the data cannot be read without it); nothing was changed.',
    );
  }
}

interface DataKeyRow {
  id: number;
  purpose: KeyPurpose;
  wrapped: string;
  retired_at: Date | null;
}

export async function readDataKeys(db: DbOrTransaction): Promise<DataKeyRow[]> {
  const { rows } = await sql<DataKeyRow>`select id, purpose, wrapped, retired_at from data_keys order by id`.execute(db);
  return rows;
}

/** Adds a new wrapped key; a concurrent start that added the same id first wins (nothing is overwritten). */
export async function insertKey(db: DbOrTransaction, kek: Buffer, id: number, purpose: KeyPurpose) {
  const wrapped = wrapKey(kek, id, purpose, randomBytes(32));
  await sql`insert into data_keys (id, purpose, wrapped) values (${id}, ${purpose}, ${wrapped}) on conflict (id) do nothing`.execute(db);
}

/**
 * Unwraps every key of the database with the KEK and makes them this process's keyring. The
 * first start creates the first data key and the blind-index key. A KEK that does not open the
 * stored keys stops here, before anything is read or written.
 */
export async function openKeyring(db: DbOrTransaction, kek: Buffer): Promise<void> {
  let rows = await readDataKeys(db);
  if (!rows.some((row) => row.purpose === 'blind_index')) await insertKey(db, kek, BLIND_INDEX_KEY_ID, 'blind_index');
  if (!rows.some((row) => row.purpose === 'data')) await insertKey(db, kek, 1, 'data');
  rows = await readDataKeys(db);
  loadKeyring(kek, rows);
}

export function loadKeyring(kek: Buffer, rows: DataKeyRow[]) {
  const dataKeys = new Map<number, Buffer>();
  let indexKey: Buffer | undefined;
  let activeId = -Infinity;
  for (const row of rows) {
    const key = unwrapKey(kek, row.id, row.purpose, row.wrapped);
    if (row.purpose === 'blind_index') indexKey = key;
    else {
      // A retired key never seals again, but still opens: a value a lagging server sealed with it
      // after the rotation's last pass stays readable (and the next rotation re-seals it).
      dataKeys.set(row.id, key);
      if (!row.retired_at) activeId = Math.max(activeId, row.id);
    }
  }
  if (!indexKey || !Number.isFinite(activeId))
    throw new EncryptionKeyError('The database has no usable data key; run the migrations again.');
  state = { kek, dataKeys, activeId, indexKey };
}

function current(): KeyringState {
  // Never a silent fallback to plaintext: a process that did not open the keyring cannot write sealed fields.
  if (!state)
    throw new EncryptionKeyError('The encryption keys are not loaded: this process did not open the keyring (src/crypto/keyring.ts).');
  return state;
}

export const activeDataKey = () => {
  const { activeId, dataKeys } = current();
  return { id: activeId, key: dataKeys.get(activeId)! };
};

export function dataKey(id: number): Buffer {
  const key = current().dataKeys.get(id);
  if (!key) {
    throw new EncryptionKeyError(
      `A value is sealed with data key ${id}, which this process does not hold yet (a rotation another process just started); it re-reads the keys within ${KEYRING_REFRESH_MS / 1000} s.`,
    );
  }
  return key;
}

/**
 * Re-reads the keys now and then, so a server keeps serving through `npm run keys -- rotate-data-key`
 * run by another process: it learns the new data key (and seals with it) within one interval, and
 * the rotation waits longer than that before re-encrypting (src/crypto/rotate-data-key.ts).
 */
export const KEYRING_REFRESH_MS = 5_000;

export function refreshKeyringEvery(db: DbOrTransaction, ms = KEYRING_REFRESH_MS, onError: (error: unknown) => void = () => {}) {
  const timer = setInterval(() => {
    const kek = state?.kek;
    if (kek) readDataKeys(db).then((rows) => loadKeyring(kek, rows), onError);
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

export const blindIndexKey = () => current().indexKey;
export const keyEncryptionKey = () => current().kek;
export const keyringOpen = () => state !== undefined;
