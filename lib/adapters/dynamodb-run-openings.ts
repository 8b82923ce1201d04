// Task runs written with everything that makes them count (RunOpenings in lib/domain/ports.ts),
// each whole or not at all, many in one TransactWriteItems request. Every write is the one its
// own store sends alone (the claim, the mark, the building place), so that a rule is written
// once. What is DynamoDB's own, and shaped here:
// - a transaction holds at most 100 writes and at most one per item: the runs entering one gate
//   are one write (ADD of all their ids), the runs pushing one tag are one write (each its own
//   attribute), and a task's building place goes to its first opening in the transaction only;
//   an opening that would write an item another already writes (the same edge, mark or run)
//   waits for the next transaction;
// - a transaction whose condition fails is cancelled whole, with a reason per write: an opening
//   whose claim or mark failed has lost, one whose building place was taken is written without
//   it, and the rest of the transaction is sent again until it commits.
// The pure part (which openings go together, their writes, reading a cancellation) is exported
// for the memory ports (test/support/memory-ports.ts), which model the same requests.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { rootOf } from '../domain/coordination/coordinator';
import { settleEach, throwFirstFailure } from '../domain/concurrency';
import { ConflictError, RetryableError, ValidationError } from '../domain/errors';
import { systemClock, type Clock, type OpeningOutcome, type Pusher, type RunOpening, type RunOpenings } from '../domain/ports';
import type { Run } from '../domain/types';
import { takeBuildingPlace } from './dynamodb-build-slot-store';
import {
  afterConflict,
  createDocumentClient,
  epochSeconds,
  sendTransaction,
  TRANSACTION_CONFLICT_ATTEMPTS,
  TRANSACTION_LIMIT,
  type DynamoDbStoreOptions,
  type TransactItem,
} from './dynamodb-client';
import { markSeenPut } from './dynamodb-delivery-store';
import { claimTime, claimUpdate } from './dynamodb-dependency-store';
import { enterGate } from './dynamodb-gate-store';
import { startPushing } from './dynamodb-image-state-store';
import { RUN_IS_NEW, runItem } from './dynamodb-run-store';
import { keys, sequenceKey, type ItemKey } from './dynamodb-table';

export class DynamoDbRunOpenings implements RunOpenings {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbStoreOptions & { clock?: Clock }) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  open(openings: RunOpening[]): Promise<OpeningOutcome[]> {
    return openInTransactions(openings, (writes) => {
      const now = epochSeconds(this.clock);
      return sendTransaction(this.client, writes.map((write) => this.itemOf(write, now)));
    });
  }

  private itemOf(write: OpeningWrite, now: number): TransactItem {
    const TableName = this.tableName;
    switch (write.kind) {
      case 'run':
        return { Put: { TableName, Item: runItem(write.run), ConditionExpression: RUN_IS_NEW } };
      case 'claim': {
        const { dep, digest, at, claimedBy } = write.claim;
        return { Update: { TableName, ...claimUpdate(dep, { digest, at }, claimedBy) } };
      }
      case 'once':
        return { Put: { TableName, ...markSeenPut(write.once.key, write.once.ttlSeconds, now) } };
      case 'gate':
        return { Update: { TableName, ...enterGate(write.root, write.taskName, write.runIds, now) } };
      case 'pushing':
        return { Update: { TableName, ...startPushing(write.target, write.pushers) } };
      case 'slot':
        return { Update: { TableName, ...takeBuildingPlace(write.taskName, write.runId) } };
    }
  }
}

/** One write of an opening transaction; a gate's and a tag's are shared by the openings of one transaction. */
export type OpeningWrite =
  | { kind: 'run'; run: Run }
  | { kind: 'claim'; claim: NonNullable<RunOpening['claim']> }
  | { kind: 'once'; once: NonNullable<RunOpening['once']> }
  | { kind: 'gate'; root: string; taskName: string; runIds: string[] }
  | { kind: 'pushing'; target: string; pushers: Pusher[] }
  | { kind: 'slot'; taskName: string; runId: string };

/** Sends one transaction of these writes: undefined when it committed, else the reason of each write, in order. */
export type OpeningTransaction = (writes: OpeningWrite[]) => Promise<Array<{ code: string; message?: string }> | undefined>;

interface Entry {
  index: number;
  opening: RunOpening;
}

/** How many transactions of one call are under way at once: a fan-out's are of different items. */
const TRANSACTIONS_AT_ONCE = 4;

/** Opens the runs through `transact`: as many openings in each transaction as fit, each answered. */
export async function openInTransactions(openings: RunOpening[], transact: OpeningTransaction): Promise<OpeningOutcome[]> {
  openings.forEach(check);
  const outcomes: OpeningOutcome[] = new Array(openings.length);
  const transactions: Entry[][] = [];
  for (let pending: Entry[] = openings.map((opening, index) => ({ index, opening })); pending.length > 0; ) {
    const { taken, rest } = takeTransaction(pending);
    transactions.push(taken);
    pending = rest;
  }
  // Two transactions under way at once that write one item (openings of one task, or of one
  // edge) meet as a TransactionConflict, which commit() waits out and sends again.
  throwFirstFailure(await settleEach(transactions, TRANSACTIONS_AT_ONCE, (taken) => commit(taken, outcomes, transact)));
  return outcomes;
}

/** Refuses, before anything is sent, what no transaction could write. */
function check({ run, claim, pushes }: RunOpening): void {
  sequenceKey(run.sequence);
  if (claim) claimTime(claim.at);
  if (pushes.length > 0 && run.taskName === undefined) throw new ValidationError(`run "${run.id}" has no task, so it cannot push as a task's run`, 'pushes');
}

/**
 * The openings of the next transaction, in order: as many as fit in its 100 writes. One that
 * would write an item an earlier one already writes alone (its run, edge or mark) waits for the
 * next transaction; so do all those after the first that does not fit.
 */
function takeTransaction(pending: Entry[]): { taken: Entry[]; rest: Entry[] } {
  const items = new Set<string>();
  const taken: Entry[] = [];
  const rest: Entry[] = [];
  let full = false;
  for (const entry of pending) {
    const { own, shared } = itemsOf(entry.opening);
    if (full || own.some((item) => items.has(item))) {
      rest.push(entry);
      continue;
    }
    const added = [...new Set([...own, ...shared])].filter((item) => !items.has(item));
    if (items.size + added.length > TRANSACTION_LIMIT) {
      if (taken.length === 0) throw new ValidationError(`run "${entry.opening.run.id}" opens with ${added.length} writes: more than one transaction holds`, 'pushes');
      full = true;
      rest.push(entry);
      continue;
    }
    for (const item of added) items.add(item);
    taken.push(entry);
  }
  return { taken, rest };
}

/** The items an opening writes: its own (no other opening may write them in the same transaction), and those it shares. */
function itemsOf({ run, claim, once, pushes, build }: RunOpening): { own: string[]; shared: string[] } {
  const id = ({ PK, SK }: ItemKey) => `${PK}\n${SK}`;
  const own = [id(keys.run(run.id)), ...(claim ? [id(keys.dependency(claim.dep.registry, claim.dep.repository, claim.dep.tag, claim.dep.taskName))] : []), ...(once ? [id(keys.delivery(once.key))] : [])];
  if (run.taskName === undefined) return { own, shared: [] };
  const shared = [id(keys.gate(rootOf(run), run.taskName)), ...pushes.map((target) => id(keys.imageStateOf(target))), ...(build ? [id(keys.buildSlots(run.taskName))] : [])];
  return { own, shared };
}

/**
 * The writes of a transaction of these openings, each with the opening it answers for (none for
 * a shared write): per opening its run, claim and mark; one gate write per gate, one pushing
 * write per tag; the building place for the first opening of a task that asks for it, unless
 * the place was found taken.
 */
function writesOf(entries: Entry[], slotTaken: Set<string>): Array<{ write: OpeningWrite; entry?: Entry }> {
  const planned: Array<{ write: OpeningWrite; entry?: Entry }> = [];
  const gates = new Map<string, { kind: 'gate'; root: string; taskName: string; runIds: string[] }>();
  const tags = new Map<string, { kind: 'pushing'; target: string; pushers: Pusher[] }>();
  const slots = new Set<string>();
  for (const entry of entries) {
    const { run, claim, once, pushes, build } = entry.opening;
    planned.push({ write: { kind: 'run', run }, entry });
    if (claim) planned.push({ write: { kind: 'claim', claim }, entry });
    if (once) planned.push({ write: { kind: 'once', once }, entry });
    const taskName = run.taskName;
    if (taskName === undefined) continue;
    const root = rootOf(run);
    const gateKey = keys.gate(root, taskName).PK;
    const gate = gates.get(gateKey);
    if (gate) gate.runIds.push(run.id);
    else {
      const write = { kind: 'gate' as const, root, taskName, runIds: [run.id] };
      gates.set(gateKey, write);
      planned.push({ write });
    }
    for (const target of new Set(pushes)) {
      const pusher: Pusher = { runId: run.id, taskName, root };
      const tag = tags.get(target);
      if (tag) tag.pushers.push(pusher);
      else {
        const write = { kind: 'pushing' as const, target, pushers: [pusher] };
        tags.set(target, write);
        planned.push({ write });
      }
    }
    if (build && !slotTaken.has(taskName) && !slots.has(taskName)) {
      slots.add(taskName);
      planned.push({ write: { kind: 'slot', taskName, runId: run.id }, entry });
    }
  }
  return planned;
}

/** Sends the transaction of these openings until it commits, leaving out the ones that lost. */
async function commit(entries: Entry[], outcomes: OpeningOutcome[], transact: OpeningTransaction): Promise<void> {
  const slotTaken = new Set<string>();
  let left = entries;
  for (let conflicts = 0; left.length > 0; ) {
    const planned = writesOf(left, slotTaken);
    const reasons = await transact(planned.map(({ write }) => write));
    if (!reasons) {
      const building = new Set(planned.flatMap(({ write, entry }) => (write.kind === 'slot' && entry ? [entry] : [])));
      for (const entry of left) outcomes[entry.index] = { opened: true, building: building.has(entry) };
      return;
    }
    const lost = new Map<Entry, 'claim' | 'once'>();
    let conflict = false;
    let slotsFound = 0;
    reasons.forEach((reason, i) => {
      const { write, entry } = planned[i] as (typeof planned)[number];
      if (reason.code === 'None') return;
      if (reason.code === 'TransactionConflict') {
        conflict = true;
        return;
      }
      if (reason.code !== 'ConditionalCheckFailed' || !entry) throw new Error(`DynamoDB refused a run opening's ${write.kind} write: ${reason.code}${reason.message ? ` (${reason.message})` : ''}`);
      if (write.kind === 'run') throw new ConflictError(`run "${write.run.id}" already exists`);
      if (write.kind === 'slot') {
        slotTaken.add(write.taskName);
        slotsFound += 1;
      }
      // The claim is the opening's first conditional write: when both fail, it is what was lost.
      else if (!lost.has(entry)) lost.set(entry, write.kind === 'claim' ? 'claim' : 'once');
    });
    for (const [entry, why] of lost) outcomes[entry.index] = { opened: false, lost: why };
    left = left.filter((entry) => !lost.has(entry));
    if (conflict) {
      conflicts += 1;
      if (conflicts >= TRANSACTION_CONFLICT_ATTEMPTS) throw new RetryableError(`opening ${left.length} runs kept conflicting with other transactions; try again`);
      await afterConflict(conflicts);
    } else if (lost.size === 0 && slotsFound === 0) {
      throw new Error('DynamoDB cancelled a transaction of run openings without saying which write failed');
    }
  }
}
