// Per change and task, one item: the runs of that task for that change not yet finished (`runs`,
// a string set RunOpenings adds to), and the events held until the last of them has finished
// (`held`, a map keyed by `<forTask or *>#<delivery>`, so that a redelivered hold is one entry).
// Every write of it is one request, conditional on `runs`, so that holding and the last run's
// leaving cannot miss each other: a hold lands while a run is in, or is refused; what is held
// goes to the one leave that finds the gate empty. A week's TTL, renewed by each write, removes
// the item should a run never finish.
import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock, type Clock, type DeferredEvent, type GateStore } from '../domain/ports';
import { byKeyBytes, createDocumentClient, epochSeconds, isConditionFailed, withoutUndefined, type DynamoDbStoreOptions, type Item } from './dynamodb-client';
import { keys, TABLE_DEFINITION } from './dynamodb-table';

const GATE_SECONDS = 7 * 24 * 3600;

export class DynamoDbGateStore implements GateStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbStoreOptions & { clock?: Clock }) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  async hold(root: string, taskName: string, deferred: DeferredEvent): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.gate(root, taskName),
          // `held` exists wherever `runs` does: every write that adds runs makes sure of it.
          UpdateExpression: 'SET held.#k = :d, #expires = :e',
          ConditionExpression: 'attribute_exists(runs)',
          ExpressionAttributeNames: { '#k': heldKey(deferred), '#expires': TABLE_DEFINITION.ttlAttribute },
          ExpressionAttributeValues: { ':d': withoutUndefined(deferred), ':e': this.expiry() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async leave(root: string, taskName: string, runId: string): Promise<DeferredEvent[]> {
    const Key = keys.gate(root, taskName);
    try {
      const left = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          // A set emptied by DELETE is removed: `runs` is gone once the last run is out.
          UpdateExpression: 'DELETE runs :r SET #expires = :e',
          // Not on a gate no run is in: the update would create the item.
          ConditionExpression: 'attribute_exists(runs)',
          ExpressionAttributeNames: { '#expires': TABLE_DEFINITION.ttlAttribute },
          ExpressionAttributeValues: { ':r': new Set([runId]), ':e': this.expiry() },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      if (left.Attributes?.runs !== undefined) return [];
    } catch (error) {
      // No run is in: this one left before (and what was held may still be there to take).
      if (!isConditionFailed(error)) throw error;
    }
    try {
      // The whole item, and only while no run is in: a run opened since keeps what is held.
      const taken = await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key, ConditionExpression: 'attribute_not_exists(runs)', ReturnValues: 'ALL_OLD' }),
      );
      return heldIn(taken.Attributes);
    } catch (error) {
      if (isConditionFailed(error)) return [];
      throw error;
    }
  }

  private expiry(): number {
    return gateExpiry(epochSeconds(this.clock));
  }
}

const gateExpiry = (now: number) => now + GATE_SECONDS;

/** `<forTask or *>#<delivery>`: one entry per event and dependent. */
function heldKey(deferred: DeferredEvent): string {
  return `${deferred.forTask ?? '*'}#${deferred.event.deliveryId}`;
}

/** What a gate item holds, in the order of its keys' bytes. */
function heldIn(item: Item | undefined): DeferredEvent[] {
  return Object.entries((item?.held ?? {}) as Record<string, DeferredEvent>)
    .sort(([a], [b]) => byKeyBytes(a, b))
    .map(([, deferred]) => deferred);
}

/**
 * Runs enter their gate, as one update: RunOpenings sends it within the transaction that writes
 * them. It makes sure of `held`, so that a hold can set an entry in it.
 */
export function enterGate(root: string, taskName: string, runIds: string[], now: number) {
  return {
    Key: keys.gate(root, taskName),
    UpdateExpression: 'ADD runs :r SET held = if_not_exists(held, :none), #expires = :e',
    ExpressionAttributeNames: { '#expires': TABLE_DEFINITION.ttlAttribute },
    ExpressionAttributeValues: { ':r': new Set(runIds), ':none': {}, ':e': gateExpiry(now) },
  };
}
