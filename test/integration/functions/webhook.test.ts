import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createWebhookHandler } from '../../../functions/webhook';
import { eventFixture } from '../../support/event-fixtures';
import { cascadePerTest, type TestCascade } from '../../support/cascade-on-dynamodb';

// The secret the GitHub fixture was signed with (test/fixtures/webhooks/SOURCES.md).
const GITHUB_SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';

describe('functions/webhook', () => {
  const current = cascadePerTest();
  let t: TestCascade;
  let handle: ReturnType<typeof createWebhookHandler>;

  beforeEach(async () => {
    t = current();
    handle = createWebhookHandler(t.cascade);
    await t.stores.webhooks.create({ name: 'github-push', provider: 'github', secrets: [GITHUB_SECRET], createdAt: '2026-11-28T04:00:00.000Z' });
  });

  it('verifies the signature on the decoded body bytes, queues the push and answers 202', async () => {
    const result = await handle(eventFixture('webhook.json'));
    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body as string)).toMatchObject({ accepted: 1 });
    expect(t.queue.messages).toEqual([
      {
        type: 'event',
        event: expect.objectContaining({ kind: 'git', source: 'github', ref: 'refs/heads/master', commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72' }),
      },
    ]);
  });

  it('drops a redelivery: the delivery record in DynamoDB says it was seen', async () => {
    await handle(eventFixture('webhook.json'));
    const again = await handle(eventFixture('webhook.json'));
    expect(again.statusCode).toBe(202);
    expect(JSON.parse(again.body as string)).toMatchObject({ accepted: 0 });
    expect(t.queue.messages).toHaveLength(1);
  });

  it('refuses a body changed by one byte with 401 and queues nothing', async () => {
    const event = eventFixture<APIGatewayProxyEventV2>('webhook.json');
    const bytes = Buffer.from(event.body as string, 'base64');
    bytes[bytes.indexOf('test a push event')] = 'T'.charCodeAt(0);
    event.body = bytes.toString('base64');
    const result = await handle(event);
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body as string).error.code).toBe('unauthorized');
    expect(result.body).not.toContain(GITHUB_SECRET);
    expect(t.queue.messages).toEqual([]);
  });

  it('answers 404 for a webhook that does not exist', async () => {
    const event = eventFixture<APIGatewayProxyEventV2>('webhook.json');
    event.rawPath = '/webhooks/nobody';
    const result = await handle(event);
    expect(result.statusCode).toBe(404);
    expect(t.queue.messages).toEqual([]);
  });

  it('serves no API route', async () => {
    const event = eventFixture<APIGatewayProxyEventV2>('api.json');
    expect((await handle(event)).statusCode).toBe(404);
  });
});
