import type { IncidentFilters } from '../incidents/incident-filters.ts';
import type { CodedColumn, CodedName, Snapshot } from './facts-snapshot.ts';
import type { Viewer } from './facts-viewer.ts';
import type { Dimension } from './statistics.schemas.ts';
import type { Counts, GroupRow, StatisticsOptions } from './statistics.types.ts';

/**
 * Statistics from the facts in memory (facts-snapshot.ts), counted as the SQL path counts
 * (detailedStatistics in statistics.queries.ts):
 *
 * - the incidents are those the caller may see (facts-viewer.ts) that match the incident
 *   filters, have a victim matching all victim filters and a claim matching all claim filters;
 * - their victims are only the matching ones ("journalists killed", not everyone killed in
 *   incidents that involved a journalist);
 * - by an incident dimension, each incident counts once under each of its values (several for
 *   attack types, and for the distinct actor types or attributions of its matching claims; null
 *   without claims), with its victims;
 * - by a victim dimension (role, gender), each victim counts under its value and each incident
 *   once under every value one of its victims has; an incident without victims counts under null;
 * - by actor type and attribution together, each incident counts once under every distinct pair
 *   of its matching claims.
 *
 * Each is one pass over typed arrays (incidents, victims or claims), grouping by codes; only the
 * few groups of codes are then turned into shown values and sorted as SQL sorts them.
 */

const DAY_MS = 86_400_000;
const days = (isoDate: string) => Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS;
/** More groups than this (two wide masks crossed, say) are left to SQL rather than allocated. */
const MAX_GROUPS = 1 << 22;
const VICTIM_DIMENSIONS = new Set<Dimension>(['victimRole', 'gender']);
const CLAIM_DIMENSIONS = new Set<Dimension>(['actorType', 'attribution']);

type Answer = { groups: GroupRow[]; totals: Counts };

export function answerFrom(snapshot: Snapshot, viewer: Viewer, options: StatisticsOptions): Answer | undefined {
  const { groupBy, filters } = options;
  const selected = selectionOf(snapshot, options).slice();
  const { visible } = viewer;
  for (let i = 0; i < snapshot.length; i++) selected[i]! &= visible[i]!;
  const victims = victimMatches(snapshot, viewer, filters, selected);
  const claims = claimMatches(snapshot, filters, selected);
  const counts = { victims: victims?.victims ?? snapshot.victims, killed: victims?.killed ?? snapshot.killed };
  const totals = totalsOf(selected, counts.victims, counts.killed);
  if (groupBy.length === 0) return { groups: [], totals };

  const claimPair = groupBy.length === 2 && groupBy.every((name) => CLAIM_DIMENSIONS.has(name));
  const columns = groupBy.map((name) =>
    claimPair ? claimPairColumn(snapshot, name as 'actorType' | 'attribution') : columnOf(snapshot, viewer, name, claims),
  );
  const sizes = columns.map((column) => column.values.length);
  const size = sizes.reduce((product, length) => product * length, 1);
  if (size > MAX_GROUPS) return undefined;
  const secondSize = sizes[1] ?? 1;

  let sums: Sums;
  if (groupBy.some((name) => VICTIM_DIMENSIONS.has(name))) {
    sums = byVictim(snapshot, selected, victims?.matched, columns, secondSize, size, !victims);
  } else if (claimPair) {
    sums = byClaim(snapshot, selected, claims?.matched, counts, secondSize, size, !claims);
  } else {
    const none = zerosOf(snapshot.length);
    sums = sumByCode(selected, columns[0]!.codes, columns[1]?.codes ?? none, secondSize, size, counts.victims, counts.killed);
  }
  return { groups: groupsOf(snapshot, options, columns, secondSize, size, sums, claimPair), totals };
}

/** Actor type or attribution of one claim (byClaim): its bit number + 1, 0 for null. */
function claimPairColumn(snapshot: Snapshot, name: 'actorType' | 'attribution'): Column {
  return { codes: new Uint8Array(0), values: [null, ...snapshot.bits[name]], perVictim: false };
}

/** Codes per row (an incident, or a victim) and the value each code stands for. */
interface Column {
  /** Per incident, or per victim for a victim dimension. */
  codes: Uint16Array | Uint8Array;
  values: (string | number | null)[];
  perVictim: boolean;
}

function columnOf(snapshot: Snapshot, viewer: Viewer, name: Dimension, claims: ClaimMatches | undefined): Column {
  const { victimRows } = snapshot;
  if (name === 'victimRole') return { codes: victimRows.role, values: victimRows.values.role, perVictim: true };
  if (name === 'gender') return { codes: viewer.gender, values: victimRows.values.gender, perVictim: true };
  // With claim filters an incident's actor types (attributions) are those of its matching claims.
  if (claims && (name === 'actorType' || name === 'attribution')) {
    const masks = name === 'actorType' ? claims.actorMasks : claims.attributionMasks;
    return { codes: masks, values: Array.from({ length: 1 << snapshot.bits[name].length }, (_, mask) => mask), perVictim: false };
  }
  const column: CodedColumn = snapshot.coded[name as CodedName];
  return { codes: column.codes, values: column.values, perVictim: false };
}

/** Incidents, victims and killed per code (pair of codes). */
type Sums = [Int32Array, Int32Array, Int32Array];

/**
 * Incidents, victims and killed per code (pair of codes), as the SQL path's grouped CTE: one
 * pass over the rows, in a function of its own so the JIT compiles the loop alone. Branch-free:
 * a row left out adds zero, which is faster than skipping it when most rows are in.
 */
function sumByCode(
  selected: Uint8Array,
  first: Uint16Array | Uint8Array,
  second: Uint16Array | Uint8Array,
  secondSize: number,
  size: number,
  victims: Int32Array,
  killed: Int32Array,
): Sums {
  const incidents = new Int32Array(size);
  const victimSums = new Int32Array(size);
  const killedSums = new Int32Array(size);
  for (let i = 0; i < selected.length; i++) {
    const counted = selected[i]!;
    const key = first[i]! * secondSize + second[i]!;
    incidents[key]! += counted;
    victimSums[key]! += victims[i]! * counted;
    killedSums[key]! += killed[i]! * counted;
  }
  return [incidents, victimSums, killedSums];
}

/**
 * By a victim dimension: one pass over the victims, an incident dimension read through the
 * victim's incident. An incident's victims are contiguous, so "this incident is counted in this
 * group already" is the group's last counted incident. Incidents without victims (there are none
 * with victim filters: they must have a matching victim) count under null.
 */
function byVictim(
  snapshot: Snapshot,
  selected: Uint8Array,
  matched: Uint8Array | undefined,
  columns: Column[],
  secondSize: number,
  size: number,
  countEmpty: boolean,
): Sums {
  const { victimRows } = snapshot;
  const perVictim = (column: Column | undefined): Uint16Array | Uint8Array => {
    if (!column) return zerosOf(victimRows.length);
    if (column.perVictim) return column.codes;
    const codes = new Uint16Array(victimRows.length);
    const incident = victimRows.incident;
    for (let v = 0; v < victimRows.length; v++) codes[v] = column.codes[incident[v]!]!;
    return codes;
  };
  const killedCode = victimRows.values.outcome.indexOf('killed');
  const sums = countVictims(
    victimRows.incident,
    selected,
    matched ?? onesOf(victimRows.length),
    perVictim(columns[0]),
    perVictim(columns[1]),
    secondSize,
    size,
    victimRows.outcome,
    killedCode,
  );
  if (countEmpty) {
    // The null victim code is 0; an incident dimension keeps the incident's code.
    const [first, second] = columns.map((column) => (column && !column.perVictim ? column.codes : undefined));
    for (let i = 0; i < snapshot.length; i++) {
      if (!selected[i] || snapshot.victims[i] !== 0) continue;
      sums[0][(first?.[i] ?? 0) * secondSize + (second?.[i] ?? 0)]!++;
    }
  }
  return sums;
}

function countVictims(
  incidentOf: Int32Array,
  selected: Uint8Array,
  matched: Uint8Array,
  first: Uint16Array | Uint8Array,
  second: Uint16Array | Uint8Array,
  secondSize: number,
  size: number,
  outcome: Uint8Array,
  killedCode: number,
): Sums {
  const incidents = new Int32Array(size);
  const victims = new Int32Array(size);
  const killed = new Int32Array(size);
  const last = new Int32Array(size).fill(-1);
  for (let v = 0; v < incidentOf.length; v++) {
    const incident = incidentOf[v]!;
    if ((selected[incident]! & matched[v]!) === 0) continue;
    const key = first[v]! * secondSize + second[v]!;
    if (last[key] !== incident) {
      last[key] = incident;
      incidents[key]!++;
    }
    victims[key]!++;
    if (outcome[v] === killedCode) killed[key]!++;
  }
  return [incidents, victims, killed];
}

/**
 * By actor type and attribution together: one pass over the claims, each incident counted once
 * per distinct pair (its claims are contiguous, as victims are). Codes are the bit numbers + 1;
 * 0 is null, where an incident without claims counts (there are none with claim filters).
 */
function byClaim(
  snapshot: Snapshot,
  selected: Uint8Array,
  matched: Uint8Array | undefined,
  counts: { victims: Int32Array; killed: Int32Array },
  secondSize: number,
  size: number,
  countEmpty: boolean,
): Sums {
  const { claimRows } = snapshot;
  const incidents = new Int32Array(size);
  const victims = new Int32Array(size);
  const killed = new Int32Array(size);
  const last = new Int32Array(size).fill(-1);
  const matches = matched ?? onesOf(claimRows.length);
  for (let c = 0; c < claimRows.length; c++) {
    const incident = claimRows.incident[c]!;
    if ((selected[incident]! & matches[c]!) === 0) continue;
    const key = (claimRows.actorType[c]! + 1) * secondSize + claimRows.attribution[c]! + 1;
    if (last[key] === incident) continue;
    last[key] = incident;
    incidents[key]!++;
    victims[key]! += counts.victims[incident]!;
    killed[key]! += counts.killed[incident]!;
  }
  if (countEmpty) {
    const { codes, values } = snapshot.coded.actorType;
    const noClaims = Uint8Array.from(values, (mask) => (mask === 0 ? 1 : 0));
    for (let i = 0; i < snapshot.length; i++) {
      if (!selected[i] || !noClaims[codes[i]!]) continue;
      incidents[0]!++;
      victims[0]! += counts.victims[i]!;
      killed[0]! += counts.killed[i]!;
    }
  }
  return [incidents, victims, killed];
}

function totalsOf(selected: Uint8Array, victims: Int32Array, killed: Int32Array): Counts {
  const totals = { incidents: 0, victims: 0, victimsKilled: 0 };
  for (let i = 0; i < selected.length; i++) {
    const counted = selected[i]!;
    totals.incidents += counted;
    totals.victims += victims[i]! * counted;
    totals.victimsKilled += killed[i]! * counted;
  }
  return totals;
}

interface VictimMatches {
  /** Per victim: 1 if it matches every victim filter. */
  matched: Uint8Array;
  /** Per incident: its matching victims, and those of them killed. */
  victims: Int32Array;
  killed: Int32Array;
}

/** With victim filters: which victims match, and (in `selected`) only incidents with one. */
function victimMatches(snapshot: Snapshot, viewer: Viewer, filters: IncidentFilters, selected: Uint8Array): VictimMatches | undefined {
  const { victimRole, victimOutcome, victimGender } = filters;
  if (!victimRole && !victimOutcome && !victimGender) return undefined;
  const { victimRows } = snapshot;
  const { values } = victimRows;
  const allowed = (list: (string | null)[], wanted: readonly string[] | undefined) =>
    Uint8Array.from(list, (value) => (!wanted || (value !== null && wanted.includes(value)) ? 1 : 0));
  const roles = allowed(values.role, victimRole);
  const outcomes = allowed(values.outcome, victimOutcome);
  // A withheld gender (code 0) never matches a gender filter, as victimOpenTo makes it on the SQL path.
  const genders = allowed(values.gender, victimGender);
  const killedCode = values.outcome.indexOf('killed');
  const matched = new Uint8Array(victimRows.length);
  const victims = new Int32Array(snapshot.length);
  const killed = new Int32Array(snapshot.length);
  const gender = viewer.gender;
  for (let v = 0; v < victimRows.length; v++) {
    const match = roles[victimRows.role[v]!]! & outcomes[victimRows.outcome[v]!]! & genders[gender[v]!]!;
    if (!match) continue;
    matched[v] = 1;
    const incident = victimRows.incident[v]!;
    victims[incident]!++;
    if (victimRows.outcome[v] === killedCode) killed[incident]!++;
  }
  for (let i = 0; i < snapshot.length; i++) if (victims[i] === 0) selected[i] = 0;
  return { matched, victims, killed };
}

interface ClaimMatches {
  matched: Uint8Array;
  /** Per incident: the masks of its matching claims' actor types and attributions (bit n: the n-th code). */
  actorMasks: Uint16Array;
  attributionMasks: Uint16Array;
}

/** With claim filters: which claims match, and (in `selected`) only incidents with one. */
function claimMatches(snapshot: Snapshot, filters: IncidentFilters, selected: Uint8Array): ClaimMatches | undefined {
  const { actorType, attribution } = filters;
  if (!actorType && !attribution) return undefined;
  const { claimRows, bits } = snapshot;
  const allowed = (codes: string[], wanted: readonly string[] | undefined) =>
    Uint8Array.from(codes, (code) => (!wanted || wanted.includes(code) ? 1 : 0));
  const actors = allowed(bits.actorType, actorType);
  const attributions = allowed(bits.attribution, attribution);
  const matched = new Uint8Array(claimRows.length);
  const actorMasks = new Uint16Array(snapshot.length);
  const attributionMasks = new Uint16Array(snapshot.length);
  for (let c = 0; c < claimRows.length; c++) {
    const actor = claimRows.actorType[c]!;
    const attributed = claimRows.attribution[c]!;
    if (!(actors[actor]! & attributions[attributed]!)) continue;
    matched[c] = 1;
    const incident = claimRows.incident[c]!;
    actorMasks[incident]! |= 1 << actor;
    attributionMasks[incident]! |= 1 << attributed;
  }
  for (let i = 0; i < snapshot.length; i++) if (actorMasks[i] === 0) selected[i] = 0;
  return { matched, actorMasks, attributionMasks };
}

/**
 * The rows matching the incident filters, one column at a time: a pass per filter over a typed
 * array, which the JIT turns into a tight loop, rather than a chain of tests per row.
 */
function selectRows(snapshot: Snapshot, { filters, includeDebunked }: StatisticsOptions): Uint8Array {
  const { length, coded } = snapshot;
  const selected = new Uint8Array(length).fill(1);
  const keep = (column: CodedColumn, wanted: (value: string | number | null) => boolean) => {
    const keeps = Uint8Array.from(column.values, (value) => (wanted(value) ? 1 : 0));
    const codes = column.codes;
    for (let i = 0; i < length; i++) selected[i]! &= keeps[codes[i]!]!;
  };
  const among = (values: readonly string[]) => (value: string | number | null) => typeof value === 'string' && values.includes(value);
  if (filters.country) keep(coded.country, among(filters.country));
  if (filters.organisation) keep(coded.organisation, among(filters.organisation));
  if (filters.verificationStatus) keep(coded.verificationStatus, among(filters.verificationStatus));
  if (filters.motive) keep(coded.motive, among(filters.motive));
  if (filters.judicialOutcome) keep(coded.judicialOutcome, among(filters.judicialOutcome));
  if (filters.deathType) keep(coded.deathType, among(filters.deathType));
  if (!includeDebunked) keep(coded.verificationStatus, (value) => value !== 'debunked');
  if (filters.attackType) {
    const wanted = filters.attackType.reduce((bits, type) => bits | (1 << snapshot.bits.attackType.indexOf(type)), 0);
    keep(coded.attackType, (mask) => ((mask as number) & wanted) !== 0);
  }
  const within = filters.dateMatch === 'within';
  const atLeast = (column: Int32Array, bound: number) => {
    for (let i = 0; i < length; i++) if (column[i]! < bound) selected[i] = 0;
  };
  const atMost = (column: Int32Array, bound: number) => {
    for (let i = 0; i < length; i++) if (column[i]! > bound) selected[i] = 0;
  };
  // overlaps: the incident may have happened in the range; within: it certainly did.
  if (filters.dateFrom) atLeast(within ? snapshot.dateStart : snapshot.dateEnd, days(filters.dateFrom.date_start));
  if (filters.dateTo) atMost(within ? snapshot.dateEnd : snapshot.dateStart, days(filters.dateTo.date_end));
  return selected;
}

/**
 * The statistics page asks several questions of one filter (a time series, bars, a cross-tab):
 * the last few selections by the incident filters are kept with the snapshot they were made on
 * (a byte per incident each). Callers copy before narrowing.
 */
const selections = new WeakMap<Snapshot, Map<string, Uint8Array>>();
const KEPT_SELECTIONS = 4;

function selectionOf(snapshot: Snapshot, options: StatisticsOptions): Uint8Array {
  const kept = selections.get(snapshot) ?? new Map<string, Uint8Array>();
  selections.set(snapshot, kept);
  const {
    victimRole: _role,
    victimOutcome: _outcome,
    victimGender: _gender,
    actorType: _actor,
    attribution: _attribution,
    ...incident
  } = options.filters;
  const key = JSON.stringify([incident, options.includeDebunked]);
  let selected = kept.get(key);
  if (!selected) {
    selected = selectRows(snapshot, options);
    kept.set(key, selected);
    if (kept.size > KEPT_SELECTIONS) kept.delete(kept.keys().next().value!);
  }
  return selected;
}

/** Columns of zeros and of ones, for a question with one dimension, or without child filters; kept by length. */
const zeros = new Map<number, Uint8Array>();
const ones = new Map<number, Uint8Array>();
function zerosOf(length: number): Uint8Array {
  let column = zeros.get(length);
  if (!column) zeros.set(length, (column = new Uint8Array(length)));
  if (zeros.size > 8) zeros.delete(zeros.keys().next().value!);
  return column;
}
function onesOf(length: number): Uint8Array {
  let column = ones.get(length);
  if (!column) ones.set(length, (column = new Uint8Array(length).fill(1)));
  if (ones.size > 8) ones.delete(ones.keys().next().value!);
  return column;
}

/** How one coded value of a dimension is shown: one value, or a mask's several (none, or null, for an empty mask). */
function shownValues(
  snapshot: Snapshot,
  name: Dimension,
  filters: IncidentFilters,
): (value: string | number | null) => (string | number | null)[] {
  if (name !== 'attackType' && name !== 'actorType' && name !== 'attribution') return (value) => [value];
  const codes = snapshot.bits[name];
  // As on the SQL path: attackType=killing&groupBy=attackType shows the killings only, and an
  // incident counts under each distinct actor type (attribution) of its claims; without claims, under null.
  const only = name === 'attackType' ? filters.attackType : undefined;
  return (value) => {
    const mask = value as number;
    const shown: (string | null)[] = [];
    for (let bit = 0; bit < codes.length; bit++) if (mask & (1 << bit) && (!only || only.includes(codes[bit]!))) shown.push(codes[bit]!);
    return mask === 0 && name !== 'attackType' ? [null] : shown;
  };
}

/** The distinct shown values of a column, and for each of its codes the positions of its shown values. */
function showCodes(values: (string | number | null)[], show: (value: string | number | null) => (string | number | null)[]) {
  const shownValues: (string | number | null)[] = [];
  const positions = new Map<string | number | null, number>();
  const byCode = values.map((value) =>
    show(value).map((shown) => {
      let position = positions.get(shown);
      if (position === undefined) positions.set(shown, (position = shownValues.push(shown) - 1));
      return position;
    }),
  );
  return { values: shownValues, byCode };
}

/**
 * The sums per code (pair of codes) added up per shown value (pair of values). A code stands for
 * one incident value or one victim value, so an incident counted once per code is counted once
 * per shown value too; only a mask's code is shown as several values.
 */
function groupsOf(
  snapshot: Snapshot,
  options: StatisticsOptions,
  columns: Column[],
  secondSize: number,
  size: number,
  sums: Sums,
  claimPair: boolean,
): GroupRow[] {
  const [incidentSums, victimSums, killedSums] = sums;
  // The claim pair's codes stand for one value each (claimPairColumn), not for masks.
  const shownAs = columns.map((column, d) =>
    showCodes(column.values, claimPair ? (value) => [value] : shownValues(snapshot, options.groupBy[d]!, options.filters)),
  );
  const [firstShown, secondShown] = shownAs;
  const secondShownSize = secondShown?.values.length ?? 1;
  const groupSize = firstShown!.values.length * secondShownSize;
  const groupSums = [new Float64Array(groupSize), new Float64Array(groupSize), new Float64Array(groupSize)] as const;
  const noValue = [0];
  for (let key = 0; key < size; key++) {
    if (!incidentSums[key]) continue;
    for (const x of firstShown!.byCode[Math.floor(key / secondSize)]!) {
      for (const y of secondShown?.byCode[key % secondSize] ?? noValue) {
        const group = x * secondShownSize + y;
        groupSums[0][group]! += incidentSums[key]!;
        groupSums[1][group]! += victimSums[key]!;
        groupSums[2][group]! += killedSums[key]!;
      }
    }
  }
  const groups: GroupRow[] = [];
  for (let group = 0; group < groupSize; group++) {
    if (!groupSums[0][group]) continue;
    const values = [firstShown!.values[Math.floor(group / secondShownSize)], secondShown?.values[group % secondShownSize]];
    groups.push({
      ...Object.fromEntries(options.groupBy.map((name, d) => [name, values[d]])),
      incidents: groupSums[0][group]!,
      victims: groupSums[1][group]!,
      victimsKilled: groupSums[2][group]!,
    });
  }
  return groups.sort((x, y) => {
    for (const name of options.groupBy) {
      const order = compareNullsLast(x[name], y[name]);
      if (order !== 0) return order;
    }
    return 0;
  });
}

/** The SQL path's `order by ... nulls last` on numbers and on text in byte order (the C collation). */
function compareNullsLast(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}
