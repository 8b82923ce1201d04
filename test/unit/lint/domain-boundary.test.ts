// lib/domain imports nothing from its edges, and eslint.config.mjs fails the lint when a file
// there tries: each edge, as a value and as a type, through eslint itself.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function lintDomainFile(source: string, file = 'lib/domain/probe.ts'): { status: number | null; output: string } {
  const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'eslint'), ['--stdin', '--stdin-filename', file], { cwd: ROOT, input: source, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the domain boundary', () => {
  // Every row names its file: a row shorter than the test's parameters would hand jest's done callback in.
  it.each([
    ["import { apiRoutes } from '../http/api-routes';\nexport const x = apiRoutes;\n", 'lib/domain/probe.ts'],
    ["import type { WebhookProvider } from '../events/index';\nexport type X = WebhookProvider;\n", 'lib/domain/probe.ts'],
    ["import { SqsQueue } from '../adapters/sqs-queue';\nexport const x = SqsQueue;\n", 'lib/domain/probe.ts'],
    ["import { awsConfig } from '../aws/wiring';\nexport const x = awsConfig;\n", 'lib/domain/probe.ts'],
    ["import { startLocalStack } from '../../local/stack';\nexport const x = startLocalStack;\n", 'lib/domain/coordination/probe.ts'],
  ])('refuses %s', (source, file) => {
    const { status, output } = lintDomainFile(source, file);
    expect(status).toBe(1);
    expect(output).toContain('lib/domain imports nothing from its edges');
  }, 60_000);

  it('lets the domain import the domain and the image and Dockerfile grammars', () => {
    const source = "import { parseImageReference } from '../images/reference';\nimport type { Task } from './types';\nexport const x = (t: Task) => parseImageReference(t.registry);\n";
    expect(lintDomainFile(source)).toEqual({ status: 0, output: '' });
  }, 60_000);
});
