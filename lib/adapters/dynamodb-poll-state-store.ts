// What the poller knows of each watched tag, and which registry hosts asked it to wait.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PollState, PollStateStore } from '../domain/ports';
import { createDocumentClient, queryAll, recordOf, withoutUndefined, type DynamoDbStoreOptions } from './dynamodb-client';
import { GSI1, keys } from './dynamodb-table';

export class DynamoDbPollStateStore implements PollStateStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
  }

  async get(ref: string): Promise<PollState | undefined> {
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.pollState(ref), ConsistentRead: true }))).Item;
    return item ? recordOf<PollState>(item) : undefined;
  }

  async put(state: PollState): Promise<void> {
    // Only the poller writes these, one pass at a time: last write wins.
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...withoutUndefined(state), ...keys.pollState(state.ref), GSI1PK: keys.allPolls, GSI1SK: state.ref } }),
    );
  }

  async list(): Promise<PollState[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.allPolls },
    });
    return items.map((item) => recordOf<PollState>(item));
  }

  async hostNotBefore(host: string): Promise<string | undefined> {
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.pollHost(host), ConsistentRead: true }))).Item;
    return typeof item?.notBefore === 'string' ? item.notBefore : undefined;
  }

  async setHostNotBefore(host: string, until: string, reason: string): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.pollHost(host), host, notBefore: until, reason } }));
  }
}
