import { DeleteParameterCommand, GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { SsmSecretStore } from '../../../lib/adapters/ssm-secret-store';
import { RetryableError, ValidationError } from '../../../lib/domain/errors';

const notFound = () => new ParameterNotFound({ message: 'not found', $metadata: {} });

describe('SsmSecretStore', () => {
  const ssm = mockClient(SSMClient);
  const client = new SSMClient({ region: 'eu-west-1' });
  const store = new SsmSecretStore({ prefix: '/cascade/dev', client });
  afterEach(() => ssm.reset());
  afterAll(() => ssm.restore());

  it('puts a SecureString under the prefix, overwriting, and returns the parameter name as the reference', async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    const ref = await store.put('task/helloworld/127.0.0.1:5001', 'hunter2');
    expect(ref).toBe('/cascade/dev/task/helloworld/127.0.0.1_3A5001');
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: '/cascade/dev/task/helloworld/127.0.0.1_3A5001', Value: 'hunter2', Type: 'SecureString', Overwrite: true },
    ]);
  });

  it('uses a customer-managed key when given one', async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    await new SsmSecretStore({ prefix: '/cascade/dev', client, kmsKeyId: 'alias/cascade' }).put('a', 'b');
    expect(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.KeyId).toBe('alias/cascade');
  });

  it('gets a value with decryption, and undefined for a parameter that does not exist', async () => {
    ssm.on(GetParameterCommand, { Name: '/cascade/dev/a' }).resolves({ Parameter: { Name: '/cascade/dev/a', Value: 'one', Type: 'SecureString' } });
    ssm.on(GetParameterCommand, { Name: '/cascade/dev/missing' }).rejects(notFound());
    await expect(store.get('/cascade/dev/a')).resolves.toBe('one');
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({ Name: '/cascade/dev/a', WithDecryption: true });
    await expect(store.get('/cascade/dev/missing')).resolves.toBeUndefined();
  });

  it('deletes, and deleting what is not there is fine', async () => {
    ssm.on(DeleteParameterCommand, { Name: '/cascade/dev/a' }).resolves({});
    ssm.on(DeleteParameterCommand, { Name: '/cascade/dev/gone' }).rejects(notFound());
    await store.delete('/cascade/dev/a');
    await expect(store.delete('/cascade/dev/gone')).resolves.toBeUndefined();
    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: '/cascade/dev/a' }, { Name: '/cascade/dev/gone' }]);
  });

  it.each([
    ['registry-login/[::1]:5000', '/cascade/dev/registry-login/_5B_3A_3A1_5D_3A5000'],
    ['task/my_task/docker.io', '/cascade/dev/task/my__task/docker.io'],
    ['task/my_3A/x', '/cascade/dev/task/my__3A/x'],
    ['task/my:/x', '/cascade/dev/task/my_3A/x'],
    ['naïve', '/cascade/dev/na_C3_AFve'],
  ])('refFor(%j) is %j: only SSM-safe characters, distinct names never collide', (name, ref) => {
    expect(store.refFor(name)).toBe(ref);
    expect(ref).toMatch(/^(\/[A-Za-z0-9_.-]+)+$/);
  });

  it('refFor stores nothing', () => {
    store.refFor('task/x/y');
    expect(ssm.calls()).toHaveLength(0);
  });

  it.each(['', 'a//b', '/a', 'a/', 'x/'.repeat(14) + 'x'])('refuses the name %j', (name) => {
    expect(() => store.refFor(name)).toThrow(ValidationError);
  });

  it.each(['/cascade/prod/a', '/cascade/devx/a', 'cascade/dev/a', '/cascade/dev/', '/other'])(
    'refuses to read or delete %j, which is outside the prefix',
    async (ref) => {
      await expect(store.get(ref)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.delete(ref)).rejects.toBeInstanceOf(ValidationError);
      expect(ssm.calls()).toHaveLength(0);
    },
  );

  it('refuses a prefix that is not an SSM path', () => {
    expect(() => new SsmSecretStore({ prefix: 'cascade', client })).toThrow(ValidationError);
    expect(() => new SsmSecretStore({ prefix: '/cascade/', client })).toThrow(ValidationError);
  });

  it.each([
    ['put', 'TooManyUpdates', () => store.put('a', 'the-secret-value'), PutParameterCommand],
    ['get', 'ThrottlingException', () => store.get('/cascade/dev/a'), GetParameterCommand],
    ['delete', 'ThrottlingException', () => store.delete('/cascade/dev/a'), DeleteParameterCommand],
  ] as const)('%s turns %s into RetryableError', async (_op, name, run, command) => {
    ssm.on(command as typeof PutParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name, $metadata: {} }));
    await expect(run()).rejects.toBeInstanceOf(RetryableError);
  });

  it('reports a value SSM refuses as a ValidationError that does not contain the value', async () => {
    ssm.on(PutParameterCommand).rejects(
      Object.assign(new Error('1 validation error detected: Value at value failed to satisfy constraint: length <= 4096'), { name: 'ValidationException', $metadata: {} }),
    );
    const put = store.put('task/big/docker.io', 'x'.repeat(5000));
    await expect(put).rejects.toBeInstanceOf(ValidationError);
    await expect(put).rejects.toThrow(/the secret "task\/big\/docker.io" could not be stored/);
    await expect(put).rejects.not.toThrow(/xxxx/);
  });
});
