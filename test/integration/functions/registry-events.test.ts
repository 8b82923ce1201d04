import { createRegistryEventsHandler } from '../../../functions/registry-events';
import { DYNAMODB_START_TIMEOUT_MS, type TestTable } from '../../support/dynamodb';
import { eventFixture } from '../../support/event-fixtures';
import { cascadeOnDynamoDb, ECR_BASE, withDynamoDb, type TestCascade } from '../../support/cascade-on-dynamodb';

type EcrEvent = { id: string; account: string; detail: Record<string, string> };
const DIGEST = `sha256:${'b'.repeat(64)}`;

/** The fixture (a base account's push, forwarded to this account's bus) with changes. */
function event(change: (e: EcrEvent) => void = () => undefined): EcrEvent {
  const e = eventFixture<EcrEvent>('registryEvents.json');
  change(e);
  return e;
}

describe('functions/registry-events', () => {
  let table: TestTable;
  let t: TestCascade;
  let handle: ReturnType<typeof createRegistryEventsHandler>;
  let warnings: jest.SpyInstance;

  beforeAll(async () => {
    table = await withDynamoDb();
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => table.stop());
  beforeEach(async () => {
    t = await cascadeOnDynamoDb(table);
    handle = createRegistryEventsHandler(t.cascade);
    warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warnings.mockRestore());

  it("queues a base account's push as the registry's image event, once", async () => {
    const pushed = event((e) => (e.id = 'forwarded-1'));
    await expect(handle(pushed)).resolves.toEqual({ accepted: 1, ignored: [] });
    await expect(handle(pushed)).resolves.toEqual({ accepted: 0, ignored: [{ reason: 'delivery forwarded-1 was already received' }] });
    expect(t.queue.messages).toEqual([
      {
        type: 'event',
        event: {
          kind: 'image',
          source: 'ecr',
          // The account that owns the repository, not the bus that received the event.
          registry: ECR_BASE,
          repository: 'baseimages/node',
          tag: '9-alpine',
          digest: DIGEST,
          occurredAt: '2026-11-28T05:10:02.000Z',
          deliveryId: 'forwarded-1',
        },
      },
    ]);
  });

  it.each<[string, (e: EcrEvent) => void, string]>([
    ['a failed push', (e) => (e.detail.result = 'FAILURE'), 'failed push of baseimages/node:9-alpine (result FAILURE)'],
    ['an untagged push', (e) => delete e.detail['image-tag'], `push of baseimages/node@${DIGEST} has no tag`],
    ['a push with a cut-short digest', (e) => (e.detail['image-digest'] = 'sha256:7f5b2640fe'), 'push of baseimages/node:9-alpine: invalid digest "sha256:7f5b2640fe" (expected sha256: and 64 hex digits)'],
  ])('queues nothing for %s and says why', async (_what, change, reason) => {
    await expect(handle(event(change))).resolves.toEqual({ accepted: 0, ignored: [{ reason }] });
    expect(t.queue.messages).toEqual([]);
  });

  it('drops an event that is not an EventBridge event instead of having Lambda retry it', async () => {
    const outcome = await handle({ hello: 'world' });
    expect(outcome.accepted).toBe(0);
    expect(outcome.ignored[0]?.reason).toMatch(/^ecr event is malformed: id: /);
    expect(t.queue.messages).toEqual([]);
  });

  it('throws when the queue fails, and forgets the delivery so the retry queues it', async () => {
    const pushed = event((e) => (e.id = 'retried-1'));
    const send = jest.spyOn(t.queue, 'send').mockRejectedValueOnce(new Error('SQS unavailable'));
    await expect(handle(pushed)).rejects.toThrow('SQS unavailable');
    send.mockRestore();
    await expect(handle(pushed)).resolves.toEqual({ accepted: 1, ignored: [] });
    expect(t.queue.messages).toHaveLength(1);
  });
});
