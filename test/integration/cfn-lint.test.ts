// AWS's own rules for CloudFormation, as cfn-lint (AWS's linter) knows them: the packaged stack,
// with and without base accounts, and every standalone template in infra/ lint with no error
// and no warning, except the rules .cfnlintrc ignores, each with its reason. The template tests
// elsewhere check what cascade believes about AWS; this checks it against what AWS accepts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PACKAGE_TIMEOUT_MS, packagedStack, WITH_BASE_ACCOUNT, type PackagedStack } from '../support/packaged-stack';
import { pythonTool } from '../support/python-tools';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

interface LintResult {
  code: number;
  /** One `file:line:column:…:RULE:message` line per finding. */
  findings: string[];
}

/** cfn-lint as a person runs it from the project root, where it reads .cfnlintrc. */
async function cfnLint(...files: string[]): Promise<LintResult> {
  try {
    const { stdout } = await run(pythonTool('cfn-lint'), ['--format', 'parseable', ...files], { cwd: ROOT, timeout: 100_000 });
    return { code: 0, findings: stdout.split('\n').filter(Boolean) };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, findings: `${failed.stdout ?? ''}${failed.stderr ?? ''}`.split('\n').filter(Boolean) };
  }
}

/** infra/*.yml that are templates of their own (not pieces serverless.yml pulls in). */
function standaloneTemplates(): string[] {
  return readdirSync(join(ROOT, 'infra'))
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .filter((f) => /^AWSTemplateFormatVersion:/m.test(readFileSync(join(ROOT, 'infra', f), 'utf8')))
    .map((f) => join('infra', f));
}

let withBaseAccount: PackagedStack;
let plain: PackagedStack;

beforeAll(() => {
  withBaseAccount = packagedStack(WITH_BASE_ACCOUNT);
  plain = packagedStack({});
}, PACKAGE_TIMEOUT_MS);

describe('cfn-lint', () => {
  it('finds nothing in the packaged stack, with base accounts and without', async () => {
    const files = [withBaseAccount, plain].flatMap((s) => [s.templatePath, join(s.dir, 'cloudformation-template-create-stack.json')]);
    expect(await cfnLint(...files)).toEqual({ code: 0, findings: [] });
  });

  it('finds nothing in each standalone template of infra/', async () => {
    const templates = standaloneTemplates();
    expect(templates).toContain(join('infra', 'base-registry-pull-role.yml'));
    expect(await cfnLint(...templates)).toEqual({ code: 0, findings: [] });
  });

  it('runs every function on nodejs24.x', () => {
    const runtimes = Object.values(withBaseAccount.template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties.Runtime);
    expect(runtimes).toEqual(Array(7).fill('nodejs24.x'));
  });

  it('leaves no file of infra/ unchecked: each is a standalone template or part of the packaged stack', () => {
    const serverless = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
    const pieces = [...serverless.matchAll(/\$\{file\((infra\/[\w.-]+\.ya?ml)\)\}/g)].map((m) => m[1]);
    const yamls = readdirSync(join(ROOT, 'infra')).filter((f) => /\.ya?ml$/.test(f)).map((f) => join('infra', f));
    // The buildspec is no template: it is rendered into the BuildProject's Source by infra/buildspec.cjs.
    const unchecked = yamls.filter((f) => !standaloneTemplates().includes(f) && !pieces.includes(f) && f !== join('infra', 'buildspec.yml'));
    expect(unchecked).toEqual([]);
  });

  it('says on its line why each rule .cfnlintrc ignores is ignored', () => {
    const text = readFileSync(join(ROOT, '.cfnlintrc'), 'utf8');
    const ignored = (parse(text) as { ignore_checks?: string[] }).ignore_checks ?? [];
    for (const rule of ignored) expect(text).toMatch(new RegExp(`^\\s*- ${rule} # \\S.{20,}$`, 'm'));
  });

  // The two defects that once made the stack undeployable, put back: the lint catches each.
  describe('catches what made the stack undeployable', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-cfn-lint-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a function on nodejs20.x (E2533)', async () => {
      const file = join(dir, 'nodejs20.json');
      writeFileSync(file, readFileSync(plain.templatePath, 'utf8').replaceAll('"nodejs24.x"', '"nodejs20.x"'));
      const { code, findings } = await cfnLint(file);
      expect(code).not.toBe(0);
      expect(findings.filter((f) => f.includes(':E2533:'))).toHaveLength(7);
    });

    it('a Fn::Join whose delimiter is a function (E1018)', async () => {
      const file = join(dir, 'pull-role.yml');
      const template = readFileSync(join(ROOT, 'infra', 'base-registry-pull-role.yml'), 'utf8');
      const broken = template.replace("- ',arn:*:ecr:*:${aws:PrincipalAccount}:repository/'", "- Fn::Sub: ',arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/'");
      expect(broken).not.toBe(template);
      writeFileSync(file, broken);
      const { code, findings } = await cfnLint(file);
      expect(code).not.toBe(0);
      expect(findings.some((f) => f.includes(':E1018:'))).toBe(true);
    });
  });
});
