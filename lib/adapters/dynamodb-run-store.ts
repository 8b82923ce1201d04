import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError, RetryableError, ValidationError } from '../domain/errors';
import { systemClock, type Clock, type RunQuery, type RunStore } from '../domain/ports';
import { TERMINAL_STATUSES, type Run, type RunStatus } from '../domain/types';
import {
  afterConflict,
  batchDelete,
  batchPut,
  byKeyBytes,
  createDocumentClient,
  isConditionFailed,
  queryAll,
  queryPages,
  recordOf,
  sendTransaction,
  TRANSACTION_CONFLICT_ATTEMPTS,
  TRANSACTION_LIMIT,
  withoutUndefined,
  type DynamoDbStoreOptions,
  type Item,
} from './dynamodb-client';
import { GSI1, GSI2, GSI3, keys, sequenceKey, TABLE_DEFINITION } from './dynamodb-table';

export interface DynamoDbRunStoreOptions extends DynamoDbStoreOptions {
  /** Run ids are `${runIdPrefix}${n}`. */
  runIdPrefix?: string;
  /** Items read per Query page when listing; small values exercise pagination in tests. */
  pageSize?: number;
  /** Decides which runs are past their `keepUntil`. */
  clock?: Clock;
}

/** Fixed when a run is created: they are baked into the run's keys. */
const IDENTITY_FIELDS = ['id', 'sequence', 'taskName'] as const;

export class DynamoDbRunStore implements RunStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly prefix: string;
  private readonly pageSize: number;
  private readonly clock: Clock;

  constructor(options: DynamoDbRunStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.prefix = options.runIdPrefix ?? 'da';
    this.pageSize = options.pageSize ?? 100;
    this.clock = options.clock ?? systemClock;
  }

  async nextId(): Promise<{ id: string; sequence: number }> {
    return (await this.nextIds(1))[0] as { id: string; sequence: number };
  }

  async nextIds(count: number): Promise<Array<{ id: string; sequence: number }>> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`cannot reserve ${count} run ids`);
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.runCounter(),
        UpdateExpression: 'ADD #value :n',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':n': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const last = result.Attributes?.value;
    if (typeof last !== 'number') throw new Error('the run counter returned no number');
    return Array.from({ length: count }, (_, i) => ({ id: `${this.prefix}${last - count + 1 + i}`, sequence: last - count + 1 + i }));
  }

  async create(run: Run): Promise<void> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: runItem(run), ConditionExpression: RUN_IS_NEW }));
    } catch (error) {
      if (isConditionFailed(error)) throw new ConflictError(`run "${run.id}" already exists`);
      throw error;
    }
  }

  /** Runs under ids nextIds reserved: no other writer can hold those keys, so they go in batches. */
  async createMany(runs: Run[]): Promise<void> {
    await batchPut(this.client, this.tableName, runs.map((run) => runItem(run)));
  }

  async get(id: string): Promise<Run | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.run(id), ConsistentRead: true }),
    );
    return result.Item && !this.expired(result.Item) ? this.runOf(result.Item) : undefined;
  }

  /** TTL deletes lazily (up to days late): a run past its time is gone already for readers. */
  private expired(item: Item): boolean {
    const at = item[TABLE_DEFINITION.ttlAttribute];
    return typeof at === 'number' && at <= Math.floor(this.clock.now().getTime() / 1000);
  }

  private runOf(item: Item): Run {
    return recordOf<Run>(item, [TABLE_DEFINITION.ttlAttribute]);
  }

  async deleteMany(ids: string[]): Promise<void> {
    await batchDelete(this.client, this.tableName, ids.map((id) => keys.run(id)));
  }

  async deleteExpired(): Promise<string[]> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      FilterExpression: '#expires <= :now',
      ExpressionAttributeNames: { '#expires': TABLE_DEFINITION.ttlAttribute },
      ExpressionAttributeValues: { ':pk': keys.allRuns, ':now': now },
    });
    const ids = items.map((item) => item.id as string);
    await this.deleteMany(ids);
    return ids;
  }

  async transition(id: string, from: RunStatus[], changes: Partial<Run> & { status: RunStatus }): Promise<Run> {
    const move = { id, from, changes };
    if (from.length === 0) throw refusal(move, undefined);
    try {
      const result = await this.client.send(new UpdateCommand({ TableName: this.tableName, ...transitionUpdate(move), ReturnValues: 'ALL_NEW' }));
      return this.runOf(result.Attributes ?? {});
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Why it failed decides the error; a condition failure is rare enough to afford the read.
      throw refusal(move, await this.get(id));
    }
  }

  async transitionMany(moves: Move[]): Promise<Array<'moved' | ConflictError>> {
    return moveInTransactions(moves, async (chunk) => {
      const reasons = await sendTransaction(
        this.client,
        // The run as it stood comes back with a failed condition: what says why, without a read.
        chunk.map((move) => ({ Update: { TableName: this.tableName, ...transitionUpdate(move), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } })),
      );
      return reasons?.map((reason) => ({ code: reason.code, ...(reason.item && { current: standingOf(reason.item) }) }));
    });
  }

  async list(query: RunQuery): Promise<Run[]> {
    if (query.top <= 0) return [];
    const runs: Run[] = [];
    const byTask = query.taskName !== undefined;
    const filter = query.status !== undefined;
    const pages = queryPages(this.client, {
      TableName: this.tableName,
      IndexName: byTask ? GSI2 : GSI1,
      KeyConditionExpression: byTask ? 'GSI2PK = :pk' : 'GSI1PK = :pk',
      ScanIndexForward: false,
      // Limit counts items read before the filter, so a filtered listing reads whole pages
      // and keeps going until it has `top` matches or the index ends.
      Limit: filter ? this.pageSize : Math.min(query.top, this.pageSize),
      ...(filter ? { FilterExpression: '#status = :status' } : {}),
      ...(filter ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
      ExpressionAttributeValues: {
        ':pk': byTask ? keys.taskRuns(query.taskName as string) : keys.allRuns,
        ...(filter ? { ':status': query.status } : {}),
      },
    });
    for await (const page of pages) {
      for (const item of page) {
        if (this.expired(item)) continue;
        runs.push(this.runOf(item));
        if (runs.length >= query.top) return runs;
      }
    }
    return runs;
  }

  // A sparse index (GSI3) rather than a status filter over all runs: recovery then reads only
  // the few unfinished runs, however long the history grows. Its keys are read at once and
  // merged in the order of the sort key they share, the sequence.
  async listUnfinished(): Promise<Run[]> {
    const shards = await Promise.all(
      keys.everyUnfinishedRuns.map((pk) =>
        queryAll(this.client, { TableName: this.tableName, IndexName: GSI3, KeyConditionExpression: 'GSI3PK = :pk', ExpressionAttributeValues: { ':pk': pk } }),
      ),
    );
    return shards
      .flat()
      .sort((a, b) => byKeyBytes(a.GSI3SK as string, b.GSI3SK as string))
      .map((item) => this.runOf(item));
  }
}

/** A run is written once under its id: a second write of it is refused. */
export const RUN_IS_NEW = 'attribute_not_exists(PK)';

/** A run as the table keeps it: the record, its TTL, and the keys of the indexes that list it. */
export function runItem(run: Run): Item {
  return {
    ...withoutUndefined(run),
    ...(run.keepUntil !== undefined && { [TABLE_DEFINITION.ttlAttribute]: ttlOf(run.keepUntil) }),
    ...keys.run(run.id),
    GSI1PK: keys.allRuns,
    GSI1SK: sequenceKey(run.sequence),
    ...(run.taskName !== undefined ? { GSI2PK: keys.taskRuns(run.taskName), GSI2SK: sequenceKey(run.sequence) } : {}),
    ...(isTerminal(run.status) ? {} : { GSI3PK: keys.unfinishedRuns(run.sequence), GSI3SK: sequenceKey(run.sequence) }),
  };
}

export type Move = { id: string; from: RunStatus[]; changes: Partial<Run> & { status: RunStatus } };

/** The update that moves a run: conditional on its status being one of `from` and on the identity fields given being its own. */
function transitionUpdate({ id, from, changes }: Move) {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const conditions = ['attribute_exists(PK)', `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`];
  from.forEach((status, i) => (values[`:from${i}`] = status));

  let n = 0;
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const name = `#f${n}`;
    const placeholder = `:f${n}`;
    n += 1;
    names[name] = field;
    values[placeholder] = withoutUndefined(value);
    // Identity fields are checked, not written: a caller passing a whole run is fine, one
    // that would move a run to another id, sequence or task is refused.
    if ((IDENTITY_FIELDS as readonly string[]).includes(field)) conditions.push(`${name} = ${placeholder}`);
    else sets.push(`${name} = ${placeholder}`);
  }

  if (changes.keepUntil !== undefined) {
    names['#expires'] = TABLE_DEFINITION.ttlAttribute;
    values[':expires'] = ttlOf(changes.keepUntil);
    sets.push('#expires = :expires');
  }
  let update = `SET ${sets.join(', ')}`;
  if (isTerminal(changes.status)) {
    update += ' REMOVE GSI3PK, GSI3SK';
  } else {
    // An unfinished run stays under the key it was created with. One moved back to unfinished
    // (none is: runs move forward) goes under the legacy key, which listUnfinished reads too:
    // the update does not know the sequence the run's own key is named after.
    values[':unfinished'] = keys.legacyUnfinishedRuns;
    update += ', GSI3PK = if_not_exists(GSI3PK, :unfinished), GSI3SK = GSI1SK';
  }
  return { Key: keys.run(id), UpdateExpression: update, ConditionExpression: conditions.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/** How a run stood when a move of it was refused: what says why. */
export type Standing = Pick<Run, 'id' | 'sequence' | 'status'> & Pick<Partial<Run>, 'taskName'>;

/** Why a run did not move: not there, not in one of `from` (a conflict), or a move that would change who it is. */
export function refusal({ id, from, changes }: Move, current: Standing | undefined): ConflictError | NotFoundError | ValidationError {
  if (from.length === 0) return new ConflictError(`run "${id}" cannot move to ${changes.status} from no status`);
  if (!current) return new NotFoundError('run', id);
  if (!from.includes(current.status)) return new ConflictError(`run "${id}" is ${current.status}, not ${from.join(' or ')}, so it cannot move to ${changes.status}`);
  const field = IDENTITY_FIELDS.find((f) => changes[f] !== undefined && changes[f] !== current[f]);
  return new ValidationError(`a state change cannot alter run "${id}"'s ${field ?? 'identity'}`, field);
}

/** The transaction of some moves: undefined when it committed, else per move why (with the run as it stood, where its condition failed). */
export type MoveTransaction = (moves: Move[]) => Promise<Array<{ code: string; current?: Standing }> | undefined>;

/**
 * Many moves, in transactions of at most 100: a move whose condition fails is answered with its
 * ConflictError and the rest of its transaction sent again without it, until it commits. A run
 * that is not there is a conflict too (it cannot move); a move that would change who a run is
 * is a mistake, and thrown.
 */
export async function moveInTransactions(moves: Move[], transact: MoveTransaction): Promise<Array<'moved' | ConflictError>> {
  const results: Array<'moved' | ConflictError> = new Array(moves.length);
  const entries = moves.map((move, index) => ({ move, index }));
  for (let start = 0; start < entries.length; start += TRANSACTION_LIMIT) {
    let left = entries.slice(start, start + TRANSACTION_LIMIT).filter(({ move, index }) => {
      if (move.from.length > 0) return true;
      results[index] = refusal(move, undefined) as ConflictError;
      return false;
    });
    for (let conflicts = 0; left.length > 0; ) {
      const reasons = await transact(left.map(({ move }) => move));
      if (!reasons) {
        for (const { index } of left) results[index] = 'moved';
        break;
      }
      let conflict = false;
      const refused = new Set<number>();
      reasons.forEach((reason, i) => {
        const { move, index } = left[i] as (typeof left)[number];
        if (reason.code === 'None') return;
        if (reason.code === 'TransactionConflict') conflict = true;
        else if (reason.code !== 'ConditionalCheckFailed') throw new Error(`DynamoDB refused to move run "${move.id}": ${reason.code}`);
        else {
          const error = refusal(move, reason.current);
          if (error instanceof ValidationError) throw error;
          results[index] = error instanceof NotFoundError ? new ConflictError(`${error.message}, so it cannot move to ${move.changes.status}`) : error;
          refused.add(index);
        }
      });
      left = left.filter(({ index }) => !refused.has(index));
      if (conflict) {
        conflicts += 1;
        if (conflicts >= TRANSACTION_CONFLICT_ATTEMPTS) throw new RetryableError(`moving ${left.length} runs kept conflicting with other transactions; try again`);
        await afterConflict(conflicts);
      } else if (refused.size === 0) {
        throw new Error('DynamoDB cancelled a transaction of run moves without saying which failed');
      }
    }
  }
  return results;
}

/** The fields of a run item a refusal reads, from DynamoDB's own notation (a cancelled transaction's items are not unmarshalled). */
function standingOf(item: Record<string, AttributeValue>): Standing {
  return {
    id: item.id?.S ?? '',
    sequence: Number(item.sequence?.N),
    status: item.status?.S as RunStatus,
    ...(item.taskName?.S !== undefined && { taskName: item.taskName.S }),
  };
}

/** DynamoDB's TTL attribute: epoch seconds. */
function ttlOf(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
