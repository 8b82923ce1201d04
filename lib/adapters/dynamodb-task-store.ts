import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../domain/errors';
import type { TaskStore } from '../domain/ports';
import type { Task } from '../domain/types';
import { normalizeGitUrl as defaultNormalizeGitUrl } from '../events/git-url';
import {
  createDocumentClient,
  isConditionFailed,
  queryAll,
  recordOf,
  withoutUndefined,
  type DynamoDbStoreOptions,
  type Item,
} from './dynamodb-client';
import { GSI1, GSI2, keys } from './dynamodb-table';

export interface DynamoDbTaskStoreOptions extends DynamoDbStoreOptions {
  normalizeGitUrl?: (url: string) => string;
}

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

  async put(task: Task): Promise<void> {
    // A whole-item put also drops the git-context index keys when the context stops being git.
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: this.toItem(task) }));
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

  private toItem(task: Task): Item {
    const gitIndex =
      task.context.kind === 'git'
        ? {
            GSI2PK: keys.gitContext(this.normalizeGitUrl(task.context.url), task.context.branch),
            GSI2SK: keys.taskInGitContext(task.name),
          }
        : {};
    return { ...withoutUndefined(task), ...keys.task(task.name), ...keys.taskList(task.name), ...gitIndex };
  }
}
