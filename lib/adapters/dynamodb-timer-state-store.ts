// Per timer, the newest occurrence fired. One conditional write is both the cursor and the
// guard: of any number of ticks, restarts or Scheduler redeliveries, one fires an occurrence.
import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TimerStateStore } from '../domain/ports';
import { createDocumentClient, isConditionFailed, type DynamoDbStoreOptions } from './dynamodb-client';
import { keys } from './dynamodb-table';

export class DynamoDbTimerStateStore implements TimerStateStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
  }

  async lastFired(taskName: string, timerName: string): Promise<string | undefined> {
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.timerState(taskName, timerName), ConsistentRead: true }))).Item;
    return typeof item?.firedThrough === 'string' ? item.firedThrough : undefined;
  }

  async claim(taskName: string, timerName: string, occurrence: string): Promise<boolean> {
    // Occurrences are whole-minute ISO instants in one format, so they compare as strings.
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.timerState(taskName, timerName),
          UpdateExpression: 'SET firedThrough = :o, taskName = :task, timerName = :timer',
          ConditionExpression: 'attribute_not_exists(firedThrough) OR firedThrough < :o',
          ExpressionAttributeValues: { ':o': occurrence, ':task': taskName, ':timer': timerName },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async release(taskName: string, timerName: string, occurrence: string, previous: string | undefined): Promise<void> {
    const key = keys.timerState(taskName, timerName);
    try {
      await this.client.send(
        previous === undefined
          ? new DeleteCommand({ TableName: this.tableName, Key: key, ConditionExpression: 'firedThrough = :o', ExpressionAttributeValues: { ':o': occurrence } })
          : new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET firedThrough = :p',
              ConditionExpression: 'firedThrough = :o',
              ExpressionAttributeValues: { ':o': occurrence, ':p': previous },
            }),
      );
    } catch (error) {
      // A later occurrence was fired since: the cursor has moved on and stays.
      if (!isConditionFailed(error)) throw error;
    }
  }

  async forget(taskName: string, timerName: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.timerState(taskName, timerName) }));
  }
}
