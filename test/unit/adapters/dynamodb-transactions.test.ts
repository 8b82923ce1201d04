// What the DynamoDB adapters do with a transaction DynamoDB cancels for a reason the store
// contract cannot bring about on DynamoDB Local: another transaction on the same items
// (TransactionConflict), which passes once that one commits, and reasons nothing can be done about.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDocumentClient } from '../../../lib/adapters/dynamodb-client';
import { DynamoDbRunOpenings } from '../../../lib/adapters/dynamodb-run-openings';
import { DynamoDbRunStore } from '../../../lib/adapters/dynamodb-run-store';
import { RetryableError } from '../../../lib/domain/errors';
import type { Run } from '../../../lib/domain/types';

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: `Transaction cancelled [${codes.join(', ')}]`, $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

const run: Run = {
  id: 'da1',
  sequence: 1,
  taskName: 'app',
  platform: 'linux/amd64',
  status: 'Queued',
  trigger: 'Manual',
  cause: { kind: 'manual' },
  spec: { registry: 'r.example', images: ['app:1'], context: { kind: 'local', path: '/src' }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
  createdAt: '2026-11-28T05:00:00.000Z',
  outputImages: [],
  baseImages: [],
};

describe('DynamoDB transactions cancelled', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  afterEach(() => dynamo.reset());
  afterAll(() => dynamo.restore());
  const client = createDocumentClient({ region: 'eu-west-1' });
  // An opening of a run with a task is two writes: the run, and its gate.
  const open = () => new DynamoDbRunOpenings({ client, tableName: 't' }).open([{ run, pushes: [] }]);
  const move = () => new DynamoDbRunStore({ client, tableName: 't' }).transitionMany([{ id: 'da1', from: ['Queued'], changes: { status: 'Running' } }]);

  it.each<[string, () => Promise<unknown>, string[], unknown]>([
    ['a run opening', open, ['None', 'TransactionConflict'], [{ opened: true, building: false }]],
    ['a run move', move, ['TransactionConflict'], ['moved']],
  ])('sends %s again when another transaction was on its items', async (_what, call, codes, answer) => {
    dynamo.on(TransactWriteCommand).rejectsOnce(cancelled(...codes)).resolves({});
    expect(await call()).toEqual(answer);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it.each<[string, () => Promise<unknown>, string[]]>([
    ['a run opening', open, ['None', 'TransactionConflict']],
    ['a run move', move, ['TransactionConflict']],
  ])('gives %s up as retryable after five conflicts in a row', async (_what, call, codes) => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(...codes));
    await expect(call()).rejects.toBeInstanceOf(RetryableError);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(5);
  });

  it.each<[string, () => Promise<unknown>, string[]]>([
    ['a run opening', open, ['None', 'ThrottlingError']],
    ['a run move', move, ['ValidationError']],
  ])('throws %s cancelled for any other reason, sending it once', async (_what, call, codes) => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(...codes));
    await expect(call()).rejects.toThrow(codes.find((code) => code !== 'None'));
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});
