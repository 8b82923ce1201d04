// The webhooks' delivery history on DynamoDB Local, held to the same contract as the memory one;
// and what is DynamoDB's own: one partition per webhook, the TTL in epoch seconds.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/adapters/dynamodb-table';
import { DynamoDbWebhookDeliveryLog } from '../../lib/adapters/dynamodb-webhook-delivery-log';
import { ManualClock } from '../support/memory-ports';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { webhookDeliveryLogContract } from '../support/webhook-delivery-log-contract';

const tables: TestTable[] = [];
afterAll(async () => {
  for (const table of tables) await table.stop();
});

async function table(): Promise<TestTable> {
  const made = await withDynamoDb({ tablePrefix: 'webhook-log' });
  tables.push(made);
  return made;
}

describe('the DynamoDB delivery log', () => {
  jest.setTimeout(DYNAMODB_START_TIMEOUT_MS);
  webhookDeliveryLogContract(async (clock) => {
    const { client, tableName } = await table();
    return new DynamoDbWebhookDeliveryLog({ client, tableName, clock });
  });

  it('keeps a webhook’s deliveries in one partition, sorted by arrival, each with a TTL in epoch seconds', async () => {
    const { client, tableName } = await table();
    const clock = new ManualClock('2026-11-28T05:00:00.000Z');
    const log = new DynamoDbWebhookDeliveryLog({ client, tableName, clock });
    await log.record({ webhook: 'hub', receivedAt: '2026-11-28T05:00:00.000Z', id: 'eeee0001', events: [], ignored: [], outcomes: {} }, 60);
    await log.recordOutcome({ webhook: 'hub', receivedAt: '2026-11-28T05:00:00.000Z', id: 'eeee0001' }, 'e1', { at: '2026-11-28T05:00:00.000Z', started: [], skipped: [] }, 60);
    const { Items } = await client.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.webhookDeliveries('hub') } }));
    expect(Items).toEqual([expect.objectContaining({ SK: '2026-11-28T05:00:00.000Z#eeee0001', expiresAt: Date.parse('2026-11-28T05:01:00.000Z') / 1000, 'outcome#e1': expect.any(Object) })]);
  });
});
