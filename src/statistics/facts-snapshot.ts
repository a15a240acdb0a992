import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/create-db.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { getDataVersion } from '../db/data-version.ts';
import { genders, victimOutcomes, victimRoles } from '../incidents/taxonomies.ts';

/**
 * The statistics facts of one data version as typed arrays (published-facts.ts answers from
 * them): one row per live incident (incident_facts, migration 0006), one per victim and one per
 * claim with the position of its incident, and who may see what (draft sharing and access
 * groups, migration 0017), all read in one repeatable-read transaction so the version names
 * exactly the rows read. Drafts are held too, each with its organisation: a keyed caller's
 * statistics count the drafts the SQL path would show them (facts-viewer.ts).
 */

/** A column of small codes and the value each code stands for (null: none). */
export interface CodedColumn {
  codes: Uint16Array;
  values: (string | number | null)[];
}

/** The coded incident columns, by the dimension they group (masks hold the mask, shown as its bits' codes). */
export type CodedName =
  | 'year'
  | 'month'
  | 'country'
  | 'organisation'
  | 'attackType'
  | 'actorType'
  | 'attribution'
  | 'verificationStatus'
  | 'motive'
  | 'judicialOutcome'
  | 'deathType';

/** One row per victim, in the order of their incidents (an incident's victims are contiguous). */
export interface VictimRows {
  length: number;
  incident: Int32Array;
  /** Position in `values` of the role, gender and outcome; 0 is null. */
  role: Uint8Array;
  gender: Uint8Array;
  outcome: Uint8Array;
  protected: Uint8Array;
  /** The access groups restricting the victim (victim_access_groups): a code of `Snapshot.groupSets`, 0 for none. */
  groups: Uint16Array;
  values: { role: (string | null)[]; gender: (string | null)[]; outcome: (string | null)[] };
}

/** One row per claim, in the order of their incidents: actor type and attribution as their facts' bit numbers. */
export interface ClaimRows {
  length: number;
  incident: Int32Array;
  actorType: Uint8Array;
  attribution: Uint8Array;
}

export interface Snapshot {
  dataVersion: number;
  length: number;
  /** Days since 1970-01-01. */
  dateStart: Int32Array;
  dateEnd: Int32Array;
  victims: Int32Array;
  killed: Int32Array;
  published: Uint8Array;
  coded: Record<CodedName, CodedColumn>;
  /** The codes of the facts' mask enums, in enum order: bit n of a mask is the n-th code. */
  bits: { attackType: string[]; actorType: string[]; attribution: string[] };
  victimRows: VictimRows;
  claimRows: ClaimRows;
  /** The access groups restricting each incident (incident_access_groups): a code of `groupSets`, 0 for none. */
  incidentGroups: Uint16Array;
  /** Sets of access group ids; code 0 is the empty set. */
  groupSets: string[][];
  /** The access groups of each key (access_group_members). */
  groupsOfKey: Map<string, Set<string>>;
  /** Organisations sharing drafts with every researcher, and those sharing with listed organisations only. */
  sharing: { withAll: Set<string>; withListed: Map<string, Set<string>> };
}

const BATCH = 100_000;
/** A code SQL gives a value the taxonomies do not know: the load fails rather than count it as null. */
const UNKNOWN = 255;

type EnumName = 'verificationStatus' | 'motive' | 'judicialOutcome' | 'deathType';
const ENUMS: EnumName[] = ['verificationStatus', 'motive', 'judicialOutcome', 'deathType'];
const CODED_BY_VALUE = ['year', 'month', 'country', 'organisation', 'attackType', 'actorType', 'attribution'] as const;
type NumberColumn =
  'dateStart' | 'dateEnd' | 'victims' | 'killed' | 'published' | 'year' | 'month' | 'attackType' | 'actorType' | 'attribution' | EnumName;
type FactPage = {
  count: number;
  last: string;
  country: string[] | null;
  organisation: string[] | null;
  restricted: number[] | null;
  restrictedBy: string[] | null;
} & Record<NumberColumn, Uint8Array | null>;
type ChildPage = {
  count: number;
  incident: Uint8Array | null;
  codes: Uint8Array | null;
  restricted: number[] | null;
  restrictedBy: string[] | null;
};

const codeOf = (column: string, codes: readonly string[]) =>
  sql`case when ${sql.ref(column)} is null then 0 else coalesce(array_position(${codes}::text[], ${sql.ref(column)}::text), ${UNKNOWN}) end`;

export async function loadSnapshot(db: Db): Promise<Snapshot> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const { dataVersion } = await getDataVersion(trx);
      const { rows: listRows } = await sql<Snapshot['bits'] & Record<EnumName, string[]> & { length: number }>`select
          enum_range(null::fact_attack_type)::text[] as "attackType",
          enum_range(null::fact_actor_type)::text[] as "actorType",
          enum_range(null::fact_attribution)::text[] as "attribution",
          enum_range(null::fact_verification_status)::text[] as "verificationStatus",
          enum_range(null::fact_motive)::text[] as "motive",
          enum_range(null::fact_judicial_outcome)::text[] as "judicialOutcome",
          enum_range(null::fact_death_type)::text[] as "deathType",
          (select count(*)::int from incident_facts) as length`.execute(trx);
      const lists = listRows[0]!;
      const length = lists.length;
      const groupSets = new GroupSets();
      const snapshot: Snapshot = {
        dataVersion,
        length,
        dateStart: new Int32Array(length),
        dateEnd: new Int32Array(length),
        victims: new Int32Array(length),
        killed: new Int32Array(length),
        published: new Uint8Array(length),
        coded: {} as Record<CodedName, CodedColumn>,
        bits: { attackType: lists.attackType, actorType: lists.actorType, attribution: lists.attribution },
        victimRows: emptyVictims(),
        claimRows: { length: 0, incident: new Int32Array(0), actorType: new Uint8Array(0), attribution: new Uint8Array(0) },
        incidentGroups: new Uint16Array(length),
        groupSets: groupSets.sets,
        groupsOfKey: new Map(),
        sharing: { withAll: new Set(), withListed: new Map() },
      };
      const coders = {} as Record<(typeof CODED_BY_VALUE)[number], Coder>;
      for (const name of CODED_BY_VALUE) coders[name] = new Coder(length);
      const enumCodes = Object.fromEntries(ENUMS.map((name) => [name, new Uint16Array(length)])) as Record<EnumName, Uint16Array>;
      const numbers = new Int32Array(BATCH);
      const victims = new Growing();
      const claims = new Growing();
      let filled = 0;
      let after: string | null = null;
      // Pages in key order, each one row: numbers as big-endian int4 in one bytea per column, an
      // enum as its position, the text columns as arrays. A row per incident would make a
      // million objects for the collector to chase; this makes a few dozen.
      const int4s = (column: string) => sql`string_agg(int4send(${sql.raw(column)}), ''::bytea order by incident_id)`;
      for (;;) {
        const range = after === null ? sql`true` : sql`incident_id > ${after}`;
        const { rows }: { rows: FactPage[] } =
          await sql<FactPage>`select count(*)::int as count, (array_agg(incident_id order by incident_id desc))[1] as last,
            ${int4s(`date_start - date '1970-01-01'`)} as "dateStart", ${int4s(`date_end - date '1970-01-01'`)} as "dateEnd",
            ${int4s('victims')} as victims, ${int4s('victims_killed')} as killed, ${int4s('published::int')} as published,
            ${int4s('coalesce(year, 0)')} as "year",
            ${int4s(`coalesce((date_part('year', month) * 12 + date_part('month', month) - 1)::int, -1)`)} as "month",
            ${int4s('attack_mask')} as "attackType", ${int4s('actor_mask')} as "actorType", ${int4s('attribution_mask')} as "attribution",
            ${int4s('coalesce(array_position(enum_range(null::fact_verification_status), verification_status), 0)')} as "verificationStatus",
            ${int4s('coalesce(array_position(enum_range(null::fact_motive), motive), 0)')} as "motive",
            ${int4s('coalesce(array_position(enum_range(null::fact_judicial_outcome), judicial_outcome), 0)')} as "judicialOutcome",
            ${int4s('coalesce(array_position(enum_range(null::fact_death_type), death_type), 0)')} as "deathType",
            array_agg(country order by incident_id) as country, array_agg(organisation_id::text order by incident_id) as organisation,
            array_agg(position order by incident_id) filter (where groups is not null) as restricted,
            array_agg(groups order by incident_id) filter (where groups is not null) as "restrictedBy"
          from (select f.*, (row_number() over (order by f.incident_id))::int - 1 as position, r.groups
            from (select * from incident_facts where ${range} order by incident_id limit ${BATCH}) f
            left join (select incident_id, string_agg(group_id::text, ',' order by group_id) as groups
              from incident_access_groups group by incident_id) r using (incident_id)) page`.execute(trx);
        const page: FactPage = rows[0]!;
        const count = Math.min(page.count, length - filled); // more cannot happen in one snapshot; guards the arrays
        if (count === 0) break;
        const read = (column: NumberColumn, into: Int32Array | Uint16Array | Uint8Array, offset: number) =>
          readInt4s(page[column], count, into, offset);
        read('dateStart', snapshot.dateStart, filled);
        read('dateEnd', snapshot.dateEnd, filled);
        read('victims', snapshot.victims, filled);
        read('killed', snapshot.killed, filled);
        read('published', snapshot.published, filled);
        for (const name of ENUMS) read(name, enumCodes[name], filled);
        for (const name of ['year', 'month', 'attackType', 'actorType', 'attribution'] as const) {
          read(name, numbers, 0);
          for (let i = 0; i < count; i++) coders[name].set(filled + i, numbers[i]!);
        }
        for (const name of ['country', 'organisation'] as const) {
          const values = page[name] ?? [];
          for (let i = 0; i < count; i++) coders[name].set(filled + i, values[i]!);
        }
        (page.restricted ?? []).forEach((position, index) => {
          snapshot.incidentGroups[filled + position] = groupSets.code(page.restrictedBy![index]!);
        });
        // The victims and claims of this page's incidents, each with its incident's position.
        const within = after === null ? sql`incident_id <= ${page.last}` : sql`incident_id > ${after} and incident_id <= ${page.last}`;
        await readChildren(trx, 'victims', within, filled, victims, groupSets);
        await readChildren(trx, 'claims', within, filled, claims, groupSets);
        filled += count;
        if (page.count < BATCH || filled === length) break;
        after = page.last;
      }
      snapshot.length = filled;
      for (const name of CODED_BY_VALUE) snapshot.coded[name] = coders[name].column();
      for (const name of ENUMS) snapshot.coded[name] = { codes: enumCodes[name], values: [null, ...lists[name]] };
      // Years and months as the SQL path shows them: 0 and -1 are "not known that precisely".
      snapshot.coded.year.values = snapshot.coded.year.values.map((year) => (year === 0 ? null : year));
      snapshot.coded.month.values = snapshot.coded.month.values.map((month) => (month === -1 ? null : monthLabel(month as number)));
      snapshot.victimRows = victimRowsOf(victims);
      snapshot.claimRows = claimRowsOf(claims);
      await readAccess(trx, snapshot);
      return snapshot;
    });
}

const ROLE_CODES = victimRoles.codes;
const GENDER_CODES = genders.codes;
const OUTCOME_CODES = victimOutcomes.codes;

/**
 * The victims (role, gender, outcome and protected packed in one int4) or the claims (actor type
 * and attribution as the facts' bit numbers) of the incidents `within`, in their incidents' order.
 */
async function readChildren(
  trx: DbOrTransaction,
  kind: 'victims' | 'claims',
  within: RawBuilder<unknown>,
  offset: number,
  into: Growing,
  groupSets: GroupSets,
): Promise<void> {
  const child =
    kind === 'victims'
      ? sql`select v.incident_id, v.position, v.id,
          ${codeOf('v.role', ROLE_CODES)} | (${codeOf('v.gender', GENDER_CODES)} << 8) | (${codeOf('v.outcome', OUTCOME_CODES)} << 16)
            | (v.protected::int << 24) as codes,
          r.groups
        from victims v
        left join (select victim_id, string_agg(group_id::text, ',' order by group_id) as groups
          from victim_access_groups group by victim_id) r on r.victim_id = v.id
        where ${within}`
      : sql`select c.incident_id, c.position, c.id,
          (array_position(enum_range(null::fact_actor_type), c.actor_type::fact_actor_type) - 1)
            | ((array_position(enum_range(null::fact_attribution), c.attribution::fact_attribution) - 1) << 8) as codes,
          null::text as groups
        from perpetrator_claims c
        where ${within}`;
  const { rows } = await sql<ChildPage>`
    with page as (select incident_id, (row_number() over (order by incident_id))::int - 1 as position
        from incident_facts where ${within}),
      rows as (select page.position as incident, child.codes, child.groups,
          (row_number() over (order by page.position, child.position, child.id))::int - 1 as n
        from page join (${child}) child on child.incident_id = page.incident_id)
    select count(*)::int as count, string_agg(int4send(incident), ''::bytea order by n) as incident,
      string_agg(int4send(codes), ''::bytea order by n) as codes,
      array_agg(n order by n) filter (where groups is not null) as restricted,
      array_agg(groups order by n) filter (where groups is not null) as "restrictedBy"
    from rows`.execute(trx);
  const page = rows[0]!;
  const start = into.length;
  into.grow(page.count);
  readInt4s(page.incident, page.count, into.incident, start);
  readInt4s(page.codes, page.count, into.codes, start);
  for (let i = start; i < start + page.count; i++) into.incident[i]! += offset;
  (page.restricted ?? []).forEach((n, index) => {
    into.groups[start + n] = groupSets.code(page.restrictedBy![index]!);
  });
}

/** Who shares drafts with whom, and who is in which access group: small tables, read whole. */
async function readAccess(trx: DbOrTransaction, snapshot: Snapshot): Promise<void> {
  const [organisations, shares, members] = await Promise.all([
    sql<{
      id: string;
      sharing: string;
    }>`select id::text, draft_sharing as sharing from organisations where draft_sharing <> 'none'`.execute(trx),
    sql<{ owner: string; reader: string }>`select organisation_id::text as owner, shared_with::text as reader
      from organisation_draft_shares`.execute(trx),
    sql<{ key: string; group: string }>`select key_id::text as key, group_id::text as group from access_group_members`.execute(trx),
  ]);
  for (const { id, sharing } of organisations.rows) {
    if (sharing === 'researchers') snapshot.sharing.withAll.add(id);
    else if (sharing === 'organisations') snapshot.sharing.withListed.set(id, new Set());
  }
  for (const { owner, reader } of shares.rows) snapshot.sharing.withListed.get(owner)?.add(reader);
  for (const { key, group } of members.rows) {
    const groups = snapshot.groupsOfKey.get(key) ?? new Set<string>();
    groups.add(group);
    snapshot.groupsOfKey.set(key, groups);
  }
}

/** Arrays that grow by pages: the victims and claims are counted only as they are read. */
class Growing {
  length = 0;
  incident = new Int32Array(1024);
  codes = new Int32Array(1024);
  groups = new Uint16Array(1024);
  grow(by: number): void {
    const needed = this.length + by;
    if (needed > this.incident.length) {
      const size = Math.max(needed, this.incident.length * 2);
      this.incident = copyInto(new Int32Array(size), this.incident);
      this.codes = copyInto(new Int32Array(size), this.codes);
      this.groups = copyInto(new Uint16Array(size), this.groups);
    }
    this.length = needed;
  }
}

function copyInto<T extends Int32Array | Uint16Array>(into: T, from: T): T {
  into.set(from);
  return into;
}

function emptyVictims(): VictimRows {
  const none = new Uint8Array(0);
  return {
    length: 0,
    incident: new Int32Array(0),
    role: none,
    gender: none,
    outcome: none,
    protected: none,
    groups: new Uint16Array(0),
    values: { role: [null], gender: [null], outcome: [null] },
  };
}

function victimRowsOf(read: Growing): VictimRows {
  const { length } = read;
  const rows: VictimRows = {
    length,
    incident: read.incident.slice(0, length),
    role: new Uint8Array(length),
    gender: new Uint8Array(length),
    outcome: new Uint8Array(length),
    protected: new Uint8Array(length),
    groups: read.groups.slice(0, length),
    values: { role: [null, ...ROLE_CODES], gender: [null, ...GENDER_CODES], outcome: [null, ...OUTCOME_CODES] },
  };
  for (let i = 0; i < length; i++) {
    const codes = read.codes[i]!;
    rows.role[i] = codes & 0xff;
    rows.gender[i] = (codes >> 8) & 0xff;
    rows.outcome[i] = (codes >> 16) & 0xff;
    rows.protected[i] = (codes >> 24) & 1;
    if (rows.role[i] === UNKNOWN || rows.gender[i] === UNKNOWN || rows.outcome[i] === UNKNOWN) {
      throw new Error('a victim has a role, gender or outcome the taxonomies (src/incidents/taxonomies.ts) do not list');
    }
  }
  return rows;
}

function claimRowsOf(read: Growing): ClaimRows {
  const { length } = read;
  const rows: ClaimRows = {
    length,
    incident: read.incident.slice(0, length),
    actorType: new Uint8Array(length),
    attribution: new Uint8Array(length),
  };
  for (let i = 0; i < length; i++) {
    rows.actorType[i] = read.codes[i]! & 0xff;
    rows.attribution[i] = (read.codes[i]! >> 8) & 0xff;
  }
  return rows;
}

/** Sets of access groups ("id,id" as SQL joins them) to small codes; 0 is no group. */
class GroupSets {
  readonly sets: string[][] = [[]];
  readonly #byText = new Map<string, number>();
  code(text: string): number {
    let code = this.#byText.get(text);
    if (code === undefined) {
      if (this.sets.length > 0xffff) throw new Error('more than 65,536 distinct sets of access groups');
      code = this.sets.push(text.split(',')) - 1;
      this.#byText.set(text, code);
    }
    return code;
  }
}

/** `count` big-endian int4 values (PostgreSQL's int4send) into `into` from `offset`. */
function readInt4s(bytes: Uint8Array | null, count: number, into: Int32Array | Uint16Array | Uint8Array, offset: number): void {
  if (!bytes) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) into[offset + i] = view.getInt32(i * 4);
}

/** year * 12 + month - 1 as the SQL path shows a month: "2015-10". */
function monthLabel(month: number): string {
  return `${String(Math.floor(month / 12)).padStart(4, '0')}-${String((month % 12) + 1).padStart(2, '0')}`;
}

/** Values to small codes, in order of first sight. */
class Coder {
  readonly #codes: Uint16Array;
  readonly #values: (string | number | null)[] = [];
  readonly #byValue = new Map<string | number | null, number>();
  constructor(length: number) {
    this.#codes = new Uint16Array(length);
  }
  set(i: number, value: string | number | null): void {
    let code = this.#byValue.get(value);
    if (code === undefined) {
      if (this.#values.length > 0xffff) throw new Error('more than 65,536 distinct values in one fact column');
      code = this.#values.push(value) - 1;
      this.#byValue.set(value, code);
    }
    this.#codes[i] = code;
  }
  column(): CodedColumn {
    return { codes: this.#codes, values: this.#values };
  }
}
