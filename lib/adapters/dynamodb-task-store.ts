import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { DependencyCapture, TaskStore } from '../domain/ports';
import type { Task, TaskTimer } from '../domain/types';
import { normalizeGitUrl as defaultNormalizeGitUrl, gitUrlParts } from '../domain/git-url';
import {
  byKeyBytes,
  createDocumentClient,
  isConditionFailed,
  queryAll,
  recordOf,
  withoutUndefined,
  type DynamoDbStoreOptions,
  type Item,
} from './dynamodb-client';
import { GSI1, GSI2, GSI3, keys } from './dynamodb-table';

export interface DynamoDbTaskStoreOptions extends DynamoDbStoreOptions {
  normalizeGitUrl?: (url: string) => string;
}

/** Fields of a task written by their own writers (recordCapture, setTimers), never by put. */
const OWN_WRITERS: readonly string[] = ['dependenciesCapturedAt', 'dependenciesCapturedBySequence', 'upstream', 'timers'];
/** Optional settings put removes when the task it is given has none. */
const OPTIONAL_SETTINGS: readonly string[] = ['history'];

/** BatchGetItem reads at most 100 items a request. */
const BATCH_GET_MAX = 100;

export class DynamoDbTaskStore implements TaskStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly normalizeGitUrl: (url: string) => string;

  constructor(options: DynamoDbTaskStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.normalizeGitUrl = options.normalizeGitUrl ?? defaultNormalizeGitUrl;
  }

  async create(task: Task): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(task),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new ConflictError(`task "${task.name}" already exists`);
      throw error;
    }
  }

  async get(name: string): Promise<Task | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.task(name), ConsistentRead: true }),
    );
    return result.Item ? recordOf<Task>(result.Item) : undefined;
  }

  async getMany(names: string[]): Promise<Map<string, Task>> {
    const found = new Map<string, Task>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      let keysLeft: Array<Record<string, unknown>> = unique.slice(i, i + BATCH_GET_MAX).map((name) => ({ ...keys.task(name) }));
      // DynamoDB may answer part of a batch and hand the rest back; at most a few rounds.
      for (let round = 0; keysLeft.length > 0; round += 1) {
        if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
        const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keysLeft, ConsistentRead: true } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const task = recordOf<Task>(item);
          found.set(task.name, task);
        }
        keysLeft = (result.UnprocessedKeys?.[this.tableName]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
      }
    }
    return found;
  }

  async put(task: Task): Promise<void> {
    // The settings people change, field by field: what builds and timers write (OWN_WRITERS)
    // stays as stored, so a change made from an older read cannot undo theirs.
    const item = this.toItem(task);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    let n = 0;
    for (const [field, value] of Object.entries(item)) {
      if (field === 'PK' || field === 'SK' || OWN_WRITERS.includes(field)) continue;
      names[`#f${n}`] = field;
      values[`:f${n}`] = value;
      sets.push(`#f${n} = :f${n}`);
      n += 1;
    }
    // Absent optional settings are removed, as a whole put would; the git indexes go with a git context.
    const removes = [...OPTIONAL_SETTINGS, 'GSI2PK', 'GSI2SK', 'GSI3PK', 'GSI3SK'].filter((field) => !(field in item));
    removes.forEach((field, i) => (names[`#r${i}`] = field));
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.task(task.name),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async delete(name: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.task(name) }));
  }

  async list(): Promise<Task[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.allTasks },
    });
    return items.map((item) => recordOf<Task>(item));
  }

  async listByGitContext(repoUrl: string, branch: string): Promise<Task[]> {
    // Normalizing is idempotent, so a caller that already normalized gets the same key.
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI2,
      KeyConditionExpression: 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.gitContext(this.normalizeGitUrl(repoUrl), branch) },
    });
    return items.map((item) => recordOf<Task>(item));
  }

  async listByGitPath(paths: string[], branch: string): Promise<Task[]> {
    const found = await Promise.all(
      [...new Set(paths)].map((path) =>
        queryAll(this.client, {
          TableName: this.tableName,
          IndexName: GSI3,
          KeyConditionExpression: 'GSI3PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.gitPath(path, branch) },
        }),
      ),
    );
    return found
      .flat()
      .sort((a, b) => byKeyBytes(a.GSI3SK as string, b.GSI3SK as string))
      .map((item) => recordOf<Task>(item));
  }

  async recordCapture(name: string, capture: DependencyCapture): Promise<boolean> {
    const upstream = capture.upstream.length > 0;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.task(name),
          UpdateExpression: `SET dependenciesCapturedAt = :at, dependenciesCapturedBySequence = :seq${upstream ? ', upstream = :up' : ''}${upstream ? '' : ' REMOVE upstream'}`,
          // A run older than the one that captured last loses: its bases are not the newest.
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(dependenciesCapturedBySequence) OR dependenciesCapturedBySequence <= :seq)',
          ExpressionAttributeValues: { ':at': capture.capturedAt, ':seq': capture.bySequence, ...(upstream && { ':up': capture.upstream }) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async setTimers(name: string, timers: TaskTimer[], updatedAt: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.task(name),
          UpdateExpression: timers.length > 0 ? 'SET timers = :timers, updatedAt = :at' : 'SET updatedAt = :at REMOVE timers',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':at': updatedAt, ...(timers.length > 0 && { ':timers': withoutUndefined(timers) }) },
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new NotFoundError('task', name);
      throw error;
    }
  }

  private toItem(task: Task): Item {
    if (task.context.kind !== 'git') return { ...withoutUndefined(task), ...keys.task(task.name), ...keys.taskList(task.name) };
    const url = this.normalizeGitUrl(task.context.url);
    const path = gitUrlParts(url)?.path;
    return {
      ...withoutUndefined(task),
      ...keys.task(task.name),
      ...keys.taskList(task.name),
      GSI2PK: keys.gitContext(url, task.context.branch),
      GSI2SK: keys.taskInGitContext(task.name),
      ...(path !== undefined && { GSI3PK: keys.gitPath(path, task.context.branch), GSI3SK: keys.taskInGitContext(task.name) }),
    };
  }
}
