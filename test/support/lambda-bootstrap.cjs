// Runs one packaged function the way Lambda's Node.js runtime does, for test/support/lambda-runtime.ts:
// the handler module is loaded once (a cold start), then invoked for each event read from stdin
// (one JSON line each) with a Lambda context, in turn, in the same process (warm invocations).
// Each answer goes to file descriptor 3 as one JSON line; the function's own output stays on
// stdout and stderr, and a marker line on stdout closes each invocation's share of it.
//
//   node lambda-bootstrap.cjs <task root> <file.handler>
const { randomUUID } = require('node:crypto');
const { createWriteStream } = require('node:fs');
const { join } = require('node:path');
const { createInterface } = require('node:readline');

const [taskRoot, handlerSpec] = process.argv.slice(2);
const MARKER = '\u0000cascade-invocation-end';
const answers = createWriteStream('', { fd: 3 });

const dot = handlerSpec.lastIndexOf('.');
const handler = require(join(taskRoot, handlerSpec.slice(0, dot)))[handlerSpec.slice(dot + 1)];
if (typeof handler !== 'function') throw new Error(`${handlerSpec} is not a function in ${taskRoot}`);

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
const timeoutMs = Number(process.env.CASCADE_TEST_TIMEOUT_MS || 60000);

async function invoke(event) {
  const started = Date.now();
  const context = {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:${process.env.CASCADE_TEST_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `test/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  };
  try {
    const result = await handler(event, context);
    return { requestId: context.awsRequestId, result: result === undefined ? null : result };
  } catch (error) {
    // What Lambda reports for a function error.
    return { requestId: context.awsRequestId, error: { errorType: error?.name ?? 'Error', errorMessage: error?.message ?? String(error) } };
  }
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const answer = await invoke(JSON.parse(line));
    process.stdout.write(`${MARKER} ${answer.requestId}\n`);
    answers.write(`${JSON.stringify(answer)}\n`);
  });
});
lines.on('close', () => queue.then(() => answers.end()));
