// The build slots' release gives a place up in steps (one conditional update each): a run
// admitted between them must build next, not wait behind a build that no longer exists. Shown on
// DynamoDB Local by holding release's second request until an admit has happened.
import { DynamoDbBuildSlotStore } from '../../lib/adapters/dynamodb-build-slot-store';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

let table: TestTable;

beforeAll(async () => {
  table = await withDynamoDb();
}, DYNAMODB_START_TIMEOUT_MS);

afterAll(async () => {
  await table?.stop();
});

it('hands the place to a run admitted while the building run gives it up', async () => {
  const slots = new DynamoDbBuildSlotStore({ client: table.client, tableName: table.tableName });
  expect(await slots.admit('app', 'da1')).toEqual({ admitted: 'build' });
  let updates = 0;
  let admitted: unknown;
  // Before release's second update (its first found nobody waiting), da2 is admitted.
  table.client.middlewareStack.add(
    (next) => async (args) => {
      if ((args.input as { UpdateExpression?: string }).UpdateExpression !== undefined && (updates += 1) === 2) {
        admitted = await new DynamoDbBuildSlotStore({ client: table.client, tableName: table.tableName }).admit('app', 'da2');
      }
      return next(args);
    },
    { step: 'initialize', name: 'admitBetweenReleaseSteps' },
  );
  try {
    expect(await slots.release('app', 'da1')).toBe('da2');
  } finally {
    table.client.middlewareStack.remove('admitBetweenReleaseSteps');
  }
  expect(admitted).toEqual({ admitted: 'wait', behind: 'da1' });
  expect(await slots.get('app')).toEqual({ building: 'da2' });
});
