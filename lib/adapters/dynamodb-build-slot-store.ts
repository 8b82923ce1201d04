// The building and the waiting Image Update run of each task, on one item per task. Every change
// is one conditional update, so concurrent events for one task can never admit two builds, and
// the waiting place is taken by whichever run comes last.
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BuildSlotStore, SlotAdmission } from '../domain/ports';
import { createDocumentClient, isConditionFailed, type DynamoDbStoreOptions } from './dynamodb-client';
import { keys } from './dynamodb-table';

/** Each attempt loses only to a concurrent change of the same item, which makes the next one succeed. */
const MAX_ATTEMPTS = 8;

export class DynamoDbBuildSlotStore implements BuildSlotStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
  }

  async admit(taskName: string, runId: string): Promise<SlotAdmission> {
    const Key = keys.buildSlots(taskName);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      if (await this.update(takeBuildingPlace(taskName, runId))) {
        return { admitted: 'build' };
      }
      const waiting = await this.update({
        Key,
        UpdateExpression: 'SET waiting = :r',
        ConditionExpression: 'attribute_exists(building) AND building <> :r',
        ExpressionAttributeValues: { ':r': runId },
        ReturnValues: 'ALL_OLD',
      });
      if (waiting) {
        const before = waiting.Attributes ?? {};
        const superseded = typeof before.waiting === 'string' && before.waiting !== runId ? before.waiting : undefined;
        return { admitted: 'wait', behind: before.building as string, ...(superseded && { superseded }) };
      }
    }
    throw new Error(`the build slots of task ${taskName} kept changing; admitting run ${runId} was given up`);
  }

  async release(taskName: string, runId: string): Promise<string | undefined> {
    const Key = keys.buildSlots(taskName);
    const values = { ':r': runId };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const promoted = await this.update({
        Key,
        UpdateExpression: 'SET building = waiting REMOVE waiting',
        ConditionExpression: 'building = :r AND attribute_exists(waiting)',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      });
      if (promoted) return promoted.Attributes?.building as string;
      // Only while nobody waits: a run admitted since the step above must not be left waiting behind no build.
      if (await this.update({ Key, UpdateExpression: 'REMOVE building', ConditionExpression: 'building = :r AND attribute_not_exists(waiting)', ExpressionAttributeValues: values })) {
        return undefined;
      }
      // A waiting run that will not build (canceled, superseded) gives its place back.
      const gaveBack = await this.update({ Key, UpdateExpression: 'REMOVE waiting', ConditionExpression: 'waiting = :r', ExpressionAttributeValues: values, ReturnValues: 'ALL_NEW' });
      if (gaveBack) return undefined;
      // Neither building nor waiting any more: nothing to give back.
      const now = await this.get(taskName);
      if (now.building !== runId) return undefined;
    }
    throw new Error(`the build slots of task ${taskName} kept changing; releasing run ${runId} was given up`);
  }

  async get(taskName: string): Promise<{ building?: string; waiting?: string }> {
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.buildSlots(taskName), ConsistentRead: true }))).Item;
    return { ...(typeof item?.building === 'string' && { building: item.building }), ...(typeof item?.waiting === 'string' && { waiting: item.waiting }) };
  }

  /** The update's result, or undefined when its condition did not hold. */
  private async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) {
    try {
      return await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}

/**
 * The run takes the building place if it is free, as one conditional update: admit sends it
 * alone, and RunOpenings within the transaction that writes the run.
 */
export function takeBuildingPlace(taskName: string, runId: string) {
  return {
    Key: keys.buildSlots(taskName),
    UpdateExpression: 'SET building = :r',
    // Admitted again while it builds (a retried event, recovery): it builds, as before.
    ConditionExpression: 'attribute_not_exists(building) OR building = :r',
    ExpressionAttributeValues: { ':r': runId },
  };
}
