// A local stack that dies at the worst moment: its builder kills the whole process (SIGKILL, no
// cleanup) when asked to start a build, after the run was created and before the build started.
// Run by crash.test.ts as its own process:  tsx test/reliability/crash-stack.ts <data dir>
import { startLocalStack } from '../../lib/local/stack';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: crash-stack.ts <data dir>');
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    log: () => undefined,
    sources: null,
    builder: () => ({
      async start() {
        process.stdout.write('crashing\n');
        process.kill(process.pid, 'SIGKILL');
        return new Promise<never>(() => undefined);
      },
    }),
  });
  process.stdout.write(`ready ${stack.url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
