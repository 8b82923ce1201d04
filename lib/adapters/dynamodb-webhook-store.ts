import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { WebhookStore } from '../domain/ports';
import type { Webhook } from '../domain/types';
import {
  createDocumentClient,
  isConditionFailed,
  queryAll,
  recordOf,
  withoutUndefined,
  type DynamoDbStoreOptions,
} from './dynamodb-client';
import { GSI1, keys } from './dynamodb-table';

export class DynamoDbWebhookStore implements WebhookStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
  }

  async create(webhook: Webhook): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...withoutUndefined(webhook),
            ...keys.webhook(webhook.name),
            GSI1PK: keys.allWebhooks,
            GSI1SK: webhook.name,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new ConflictError(`webhook "${webhook.name}" already exists`);
      throw error;
    }
  }

  async get(name: string): Promise<Webhook | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.webhook(name), ConsistentRead: true }),
    );
    return result.Item ? recordOf<Webhook>(result.Item) : undefined;
  }

  async list(): Promise<Webhook[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.allWebhooks },
    });
    return items.map((item) => recordOf<Webhook>(item));
  }

  async setSecrets(name: string, secrets: string[]): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.webhook(name),
          UpdateExpression: 'SET secrets = :s',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':s': secrets },
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new NotFoundError('webhook', name);
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.webhook(name) }));
  }
}
