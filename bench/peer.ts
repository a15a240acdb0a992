import { runLoad, type LoadResult } from './load.ts';

/**
 * The peer of `npm run bench -- --peer`: Directus 12.4, the "instant REST API over PostgreSQL" a
 * small group would pick instead, serving the same tables of the same database as admin
 * (../shared/tools/peer-directus.sh installs it outside the project, bootstraps its own tables
 * into the bench database and starts it). A scenario that names a peer path is then loaded on
 * both, with the same load generator and concurrency, and the ratio of requests per second is
 * printed next to the SQL floor. Directus answers flat rows; Dateline the nested public document.
 */
export interface Peer {
  url: string;
  token: string;
}

/** The peer from PEER_DIRECTUS_URL (and PEER_DIRECTUS_TOKEN), or why there is none. */
export async function findPeer(): Promise<Peer | string> {
  const url = process.env.PEER_DIRECTUS_URL;
  if (!url) return 'PEER_DIRECTUS_URL is not set (peer-directus.sh start prints it)';
  const token = process.env.PEER_DIRECTUS_TOKEN ?? 'peer-bench-token';
  try {
    const ping = await fetch(new URL('/server/ping', url));
    if (!ping.ok) return `${url}/server/ping answered ${ping.status}`;
  } catch (error) {
    return `${url} does not answer (${(error as Error).message})`;
  }
  return { url, token };
}

/** The Directus items query for published, live incidents, newest first, with extra filters (field -> value). */
export function directusIncidents(filters: Record<string, string>, limit: number): string {
  const conditions: Record<string, string> = {
    'filter[visibility][_eq]': 'published',
    'filter[deleted_at][_null]': 'true',
    'filter[merged_into][_null]': 'true',
    ...Object.fromEntries(Object.entries(filters).map(([field, value]) => [`filter[${field}][_eq]`, value])),
    sort: '-date_start,-id',
    limit: String(limit),
  };
  return `/items/incidents?${new URLSearchParams(conditions)}`;
}

export async function loadPeer(peer: Peer, paths: string[], connections: number, seconds: number): Promise<LoadResult> {
  return runLoad({ baseUrl: peer.url, paths, connections, seconds, headers: { authorization: `Bearer ${peer.token}` } });
}
