import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors';
import type { DependencyKey, DependencyStore } from '../domain/ports';
import type { Dependency } from '../domain/types';
import {
  batchDelete,
  createDocumentClient,
  isConditionFailed,
  queryAll,
  recordOf,
  transactWriteChunked,
  type DynamoDbStoreOptions,
} from './dynamodb-client';
import { GSI1, keys } from './dynamodb-table';

export interface DynamoDbDependencyStoreOptions extends DynamoDbStoreOptions {
  /** Items per Query page; small values exercise pagination in tests. */
  pageSize?: number;
}

type BaseOf = Pick<Dependency, 'registry' | 'repository' | 'tag'>;

/** When the claimed push happened: compared by claims only, not part of the edge's record. */
const CLAIM_BOOKKEEPING = ['lastTriggeredAtMs'];

export class DynamoDbDependencyStore implements DependencyStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly pageSize: number | undefined;

  constructor(options: DynamoDbDependencyStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.pageSize = options.pageSize;
  }

  async listDependents(registry: string, repository: string, tag: string): Promise<Dependency[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.dependents(registry, repository, tag) },
      ConsistentRead: true,
      ...(this.pageSize !== undefined ? { Limit: this.pageSize } : {}),
    });
    return items.map((item) => recordOf<Dependency>(item, CLAIM_BOOKKEEPING));
  }

  async listForTask(taskName: string): Promise<Dependency[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.taskDependencies(taskName) },
      ...(this.pageSize !== undefined ? { Limit: this.pageSize } : {}),
    });
    return items.map((item) => recordOf<Dependency>(item, CLAIM_BOOKKEEPING));
  }

  async replaceForTask(taskName: string, dependencies: Dependency[]): Promise<void> {
    const wanted = mergeByBase(taskName, dependencies);
    // The per-task index is eventually consistent; replacements come one build apart, far
    // longer than its lag, so an edge written by the previous replacement is seen here.
    const existing = await this.listForTask(taskName);
    const stale = existing.filter((dep) => !wanted.has(baseId(dep)));

    // Updates, not puts: an edge that stays keeps lastTriggeredDigest/Run, and a claimTrigger
    // racing with this write is never overwritten by a stale copy.
    const writes = [...wanted.values()].map((dep) => {
      const fields: Record<string, unknown> = {
        taskName,
        registry: dep.registry,
        repository: dep.repository,
        tag: dep.tag,
        digest: dep.digest,
        stage: dep.stage,
        pinned: dep.pinned,
        capturedAt: dep.capturedAt,
        capturedByRun: dep.capturedByRun,
        GSI1PK: keys.taskDependencies(taskName),
        GSI1SK: keys.dependencyInTask(dep.registry, dep.repository, dep.tag),
      };
      // The task file's step that pulled it; a Dockerfile task's edge has none.
      if (dep.step !== undefined) fields.step = dep.step;
      const names = Object.keys(fields);
      return {
        Update: {
          TableName: this.tableName,
          Key: keys.dependency(dep.registry, dep.repository, dep.tag, taskName),
          UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :v${i}`).join(', ')}${dep.step === undefined ? ' REMOVE #step' : ''}`,
          ExpressionAttributeNames: { ...Object.fromEntries(names.map((name, i) => [`#a${i}`, name])), ...(dep.step === undefined && { '#step': 'step' }) },
          ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, fields[name]])),
        },
      };
    });
    const deletes = stale.map((dep) => ({
      Delete: { TableName: this.tableName, Key: keys.dependency(dep.registry, dep.repository, dep.tag, taskName) },
    }));
    await transactWriteChunked(this.client, [...writes, ...deletes]);
  }

  async claimTrigger(dep: DependencyKey, push: { digest: string; at: string }, claimedBy: string): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, ...claimUpdate(dep, push, claimedBy) }));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async releaseTrigger(dep: DependencyKey, digest: string, claimedBy: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.dependency(dep.registry, dep.repository, dep.tag, dep.taskName),
          UpdateExpression: 'REMOVE lastTriggeredDigest, lastTriggeredBy, lastTriggeredAtMs',
          ConditionExpression: 'lastTriggeredDigest = :d AND lastTriggeredBy = :r',
          ExpressionAttributeValues: { ':d': digest, ':r': claimedBy },
        }),
      );
    } catch (error) {
      // Someone else's claim since, or the edge is gone: nothing of ours to give back.
      if (!isConditionFailed(error)) throw error;
    }
  }

  async markTagGone(registry: string, repository: string, tag: string, at: string): Promise<number> {
    const edges = await this.listDependents(registry, repository, tag);
    await Promise.all(
      edges.map((edge) =>
        this.client
          .send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: keys.dependency(registry, repository, tag, edge.taskName),
              UpdateExpression: 'SET tagGoneAt = :at',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeValues: { ':at': at },
            }),
          )
          .catch((error: unknown) => {
            // The edge went away meanwhile (task deleted or recaptured): nothing to mark.
            if (!isConditionFailed(error)) throw error;
          }),
      ),
    );
    return edges.length;
  }

  async deleteForTask(taskName: string): Promise<void> {
    const existing = await this.listForTask(taskName);
    await batchDelete(
      this.client,
      this.tableName,
      existing.map((dep) => keys.dependency(dep.registry, dep.repository, dep.tag, taskName)),
    );
  }
}

/**
 * The claim of an edge for a push, as one conditional update: claimTrigger sends it alone, and
 * RunOpenings within the transaction that writes the run it triggers.
 */
export function claimUpdate(dep: DependencyKey, push: { digest: string; at: string }, claimedBy: string) {
  return {
    Key: keys.dependency(dep.registry, dep.repository, dep.tag, dep.taskName),
    UpdateExpression: 'SET lastTriggeredDigest = :d, lastTriggeredBy = :r, lastTriggeredAtMs = :t REMOVE tagGoneAt',
    // Two events read as newer at the same moment must not both build: the later push
    // wins the claim (the greater digest on a tie, as the image state decides).
    ConditionExpression:
      'attribute_exists(PK) AND digest <> :d AND (attribute_not_exists(lastTriggeredDigest) OR lastTriggeredDigest <> :d) AND ' +
      '(attribute_not_exists(lastTriggeredAtMs) OR lastTriggeredAtMs < :t OR (lastTriggeredAtMs = :t AND lastTriggeredDigest < :d))',
    ExpressionAttributeValues: { ':d': push.digest, ':r': claimedBy, ':t': claimTime(push.at) },
  };
}

/** A claim's push time, compared as epoch milliseconds (registries write ISO times with different precision and offsets). */
export function claimTime(at: string): number {
  const time = Date.parse(at);
  if (Number.isNaN(time)) throw new ValidationError(`the push time "${at}" is not a date`, 'occurredAt');
  return time;
}

function baseId(dep: BaseOf): string {
  return keys.dependents(dep.registry, dep.repository, dep.tag);
}

/**
 * One edge per base image. A Dockerfile can use the same base in several stages; the edge
 * keeps the use that triggers most: unpinned before pinned, then runtime before build-time.
 */
function mergeByBase(taskName: string, dependencies: Dependency[]): Map<string, Dependency> {
  const byBase = new Map<string, Dependency>();
  for (const dep of dependencies) {
    if (dep.taskName !== taskName) {
      throw new ValidationError(`dependency on ${baseId(dep)} belongs to task "${dep.taskName}", not "${taskName}"`, 'taskName');
    }
    const id = baseId(dep);
    const kept = byBase.get(id);
    if (!kept || triggerRank(dep) > triggerRank(kept)) byBase.set(id, dep);
  }
  return byBase;
}

function triggerRank(dep: Dependency): number {
  return (dep.pinned ? 0 : 2) + (dep.stage === 'runtime' ? 1 : 0);
}
