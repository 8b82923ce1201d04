// The DynamoDB stores on DynamoDB Local against the store contract the memory stores also keep
// (test/unit/support/memory-stores.test.ts): a case that passes there and fails here is a memory
// store that is not faithful.
import { createDynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import { storeContract } from '../support/store-contract';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

// Held for the whole file so that DynamoDB Local starts once; each case gets a table of its own.
let warm: TestTable;
beforeAll(async () => {
  warm = await withDynamoDb({ tablePrefix: 'contract' });
}, DYNAMODB_START_TIMEOUT_MS);
afterAll(() => warm?.stop());

describe('DynamoDB stores keep the store contract', () => {
  storeContract(async (options) => {
    const table = await withDynamoDb({ tablePrefix: 'contract' });
    let requests = 0;
    table.client.middlewareStack.add(
      (next) => async (args) => {
        requests += 1;
        return next(args);
      },
      { step: 'initialize', name: 'contractRequestCount' },
    );
    return { ...createDynamoDbStores({ client: table.client, tableName: table.tableName, ...options }), requestCount: () => requests, close: () => table.stop() };
  });
});
