// The stack exactly as `npm run package` writes it: CloudFormation templates and one zip per
// function. Packaging takes a while, so one jest run packages each set of parameters once, into
// its capture folder, and every test file that asks for the same parameters reads that copy.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFormationTemplate } from './cloudformation';

const ROOT = join(__dirname, '..', '..');

/** The parameters the tests deploy with: one base account that forwards its ECR events. */
export const BASE_ACCOUNT = '210987654321';
export const PULL_ROLE = `arn:aws:iam::${BASE_ACCOUNT}:role/cascade-pull`;
export const WITH_BASE_ACCOUNT = { basePullRoleArns: PULL_ROLE, baseAccountIds: BASE_ACCOUNT };

/** Generous: serverless, esbuild and tsc on two busy cores. Use as the beforeAll timeout. */
export const PACKAGE_TIMEOUT_MS = 180_000;

export interface PackagedStack {
  /** The folder holding the templates and `<function>.zip`. */
  dir: string;
  /** What `npm run package` printed (the bundle sizes table). */
  printed: string;
  template: CloudFormationTemplate;
  templatePath: string;
}

/** `npm run package` with these serverless params (`--param="name=value"`), once per jest run. */
export function packagedStack(params: Record<string, string> = WITH_BASE_ACCOUNT): PackagedStack {
  const args = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
  const key = createHash('sha256').update(args.join('\n')).digest('hex').slice(0, 12);
  const captureDir = process.env.CASCADE_TEST_CAPTURE_DIR;
  const dir = captureDir ? join(captureDir, `package-${key}`) : mkdtempSync(join(tmpdir(), 'cascade-package-'));
  const done = join(dir, 'printed.txt');
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    let printed: string;
    try {
      printed = execFileSync('npm', ['run', 'package', '--', '--package', dir, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: PACKAGE_TIMEOUT_MS - 10_000,
        // No credentials are needed, and none must be picked up from this machine.
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`npm run package ${args.join(' ')} failed:\n${`${stdout}\n${stderr}`.trim().slice(-3000)}`);
    }
    // Written last: a packaging that failed halfway is never taken for a finished one.
    writeFileSync(done, printed);
  }
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  return {
    dir,
    printed: readFileSync(done, 'utf8'),
    template: JSON.parse(readFileSync(templatePath, 'utf8')) as CloudFormationTemplate,
    templatePath,
  };
}
