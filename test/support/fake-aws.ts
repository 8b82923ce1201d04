// An HTTP endpoint that answers the AWS JSON-protocol calls cascade makes to services that cannot
// run on this machine (SQS, CodeBuild, SSM, CloudWatch Logs), for a process the test cannot give
// a mocked SDK client: `serverless invoke local`, pointed here with AWS_ENDPOINT_URL_<SERVICE>.
// It records every call by its X-Amz-Target and answers as the service would for cascade's use.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAwsCall {
  /** `AmazonSQS.SendMessage`, `CodeBuild_20161006.StartBuild`, … */
  target: string;
  input: Record<string, unknown>;
}

export interface FakeAws {
  url: string;
  calls: FakeAwsCall[];
  /** The recorded calls of one operation, e.g. `StartBuild`. */
  callsOf(operation: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown };

function answer(target: string, input: Record<string, unknown>, state: { builds: number; parameters: Map<string, string> }): Reply {
  const operation = target.split('.').pop();
  switch (operation) {
    case 'SendMessage':
      // The SDK checks the digest of the body it sent.
      return { status: 200, body: { MessageId: `fake-message-${Date.now()}`, MD5OfMessageBody: createHash('md5').update(String(input.MessageBody)).digest('hex') } };
    case 'StartBuild':
      state.builds += 1;
      return { status: 200, body: { build: { id: `${String(input.projectName)}:fake-build-${state.builds}`, buildStatus: 'IN_PROGRESS' } } };
    case 'BatchGetBuilds':
      return { status: 200, body: { builds: [], buildsNotFound: input.ids ?? [] } };
    case 'GetParameter': {
      const value = state.parameters.get(String(input.Name));
      if (value === undefined) return { status: 400, body: { __type: 'ParameterNotFound', message: `${String(input.Name)} not found` } };
      return { status: 200, body: { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } } };
    }
    case 'PutParameter':
      state.parameters.set(String(input.Name), String(input.Value));
      return { status: 200, body: { Version: 1 } };
    case 'DeleteParameter':
      state.parameters.delete(String(input.Name));
      return { status: 200, body: {} };
    case 'CreateLogStream':
    case 'PutLogEvents':
      return { status: 200, body: {} };
    case 'GetLogEvents':
      return { status: 200, body: { events: [], nextForwardToken: 'f/0' } };
    default:
      return { status: 400, body: { __type: 'UnknownOperationException', message: `the fake does not answer ${target}` } };
  }
}

export async function startFakeAws(): Promise<FakeAws> {
  const calls: FakeAwsCall[] = [];
  const state = { builds: 0, parameters: new Map<string, string>() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let input: Record<string, unknown> = {};
      try {
        input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        // recorded as an empty input; the answer still says which operation it was
      }
      calls.push({ target, input });
      const reply = answer(target, input, state);
      const json = target.startsWith('AmazonSQS.') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
      res.writeHead(reply.status, { 'content-type': json, 'x-amzn-requestid': `fake-${calls.length}` });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsOf: (operation) => calls.filter((c) => c.target.endsWith(`.${operation}`)).map((c) => c.input),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
