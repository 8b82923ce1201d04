// Tasks from a task file (issue 15), on the memory ports: `task create` reads the file and every
// build step's Dockerfile, the images pushed are the push steps', a run carries its template
// values to the builder, and a run's bases (from every build step) become the task's
// dependencies with the step that pulled each; a push of either base rebuilds the task once.
import { createCascade, type Cascade } from '../../../lib/domain/cascade';
import type { SourceReader } from '../../../lib/domain/ports';
import type { BuildContext, ResolvedBaseImage } from '../../../lib/domain/types';
import { pushTemplates } from '../../../lib/taskfile/task-file';
import { memoryCascadePorts, type MemoryCascadePorts } from '../../support/memory-ports';
import { digest, memoryWorld } from '../../support/memory-world';

const REG = 'app.example:5000';
const BASE = 'base.example:5000';
const TASK_FILE = [
  'version: v1.1.0',
  'steps:',
  '  - id: app',
  `    build: -t $Registry/app:$ID -t {{.Run.Registry}}/app:latest -t other.example/elsewhere:$ID --build-arg REGISTRY_NAME=${BASE} .`,
  '    when: ["-"]',
  '  - id: tools',
  '    build: -t $Registry/tools:{{.Run.Date}} tools',
  '    when: ["-"]',
  '  - id: check',
  '    cmd: $Registry/app:$ID sh /app/check.sh',
  '    when: [app, tools]',
  '  - push: [$Registry/app:$ID, "{{.Run.Registry}}/app:latest", $Registry/tools:$Date, other.example/elsewhere:$ID]',
  '',
].join('\n');

let files: Record<string, string>;
let ports: MemoryCascadePorts;
let cascade: Cascade;

beforeEach(() => {
  files = {
    'acr-task.yaml': TASK_FILE,
    Dockerfile: 'ARG REGISTRY_NAME\nFROM ${REGISTRY_NAME}/node:9\n',
    'tools/Dockerfile': `FROM ${BASE}/golang:1 AS build\nFROM ${BASE}/tools:1\n`,
  };
  const sources: SourceReader = {
    readFile: async (_context: BuildContext, path: string) => {
      const text = files[path];
      if (text === undefined) throw new Error(`no file ${path}`);
      return text;
    },
  };
  ports = memoryCascadePorts();
  cascade = createCascade({ ...ports, sources });
});

const create = (extra: Record<string, unknown> = {}) =>
  cascade.tasks.create({
    name: 'checked',
    registry: REG,
    images: [],
    context: 'https://git.example.com/app.git#main',
    file: 'acr-task.yaml',
    args: {},
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTriggerEnabled: true,
    baseImageTriggerType: 'Runtime',
    commitTriggerEnabled: false,
    ...extra,
  });

describe('a task from a task file', () => {
  it('pushes what its push steps push to its registry, as templates', async () => {
    const task = await create();
    expect(task.images).toEqual(['app:{{.Run.ID}}', 'app:latest', 'tools:{{.Run.Date}}']);
    expect(pushTemplates(TASK_FILE, REG, 'checked')).toEqual(task.images);
  });

  it.each([
    ['--image given too', { images: ['app:1'] }, /names the images its push steps push: leave out --image/, (): unknown => undefined],
    ['a build step whose Dockerfile is broken', {}, /step "tools" \(task file line 6\), tools\/Dockerfile: Dockerfile line 1/, (): unknown => (files['tools/Dockerfile'] = 'FROM\n')],
    ['a build step whose Dockerfile is missing', {}, /no file tools\/Dockerfile/, (): unknown => delete files['tools/Dockerfile']],
    ['an unknown key', {}, /task file line 3: unknown key "image"/, (): unknown => (files['acr-task.yaml'] = 'steps:\n  - cmd: bash\n    image: x\n')],
  ])('is refused with %s, and nothing is written', async (_what, extra, message, change: () => unknown) => {
    change();
    await expect(create(extra)).rejects.toThrow(message);
    expect(await cascade.tasks.list()).toEqual([]);
  });

  it('a Dockerfile task still needs an --image', async () => {
    await expect(create({ file: 'Dockerfile' })).rejects.toThrow(/at least one --image is required/);
  });

  it("gives the builder the run's template values, and captures the bases of every build step with its id", async () => {
    await create();
    const run = await cascade.runs.runTaskByName('checked', { trigger: 'Manual', cause: { kind: 'manual' } });
    const started = ports.builder.started.find((r) => r.runId === run.id);
    expect(started?.spec.dockerfile).toBe('acr-task.yaml');
    expect(started?.spec.values).toMatchObject({ 'Run.ID': run.id, 'Run.Registry': REG, 'Run.TaskName': 'checked' });
    expect(started?.spec.images).toEqual([`app:${run.id}`, 'app:latest', expect.stringMatching(/^tools:\d{8}-\d{6}z$/)]);

    const pulled = (repository: string, stage: ResolvedBaseImage['stage'], step: string): ResolvedBaseImage => ({
      registry: BASE, repository, tag: repository === 'node' ? '9' : '1', digest: digest('1'), stage, pinned: false, step,
    });
    await cascade.runs.recordResult({
      runId: run.id,
      status: 'Succeeded',
      finishedAt: ports.clock.now().toISOString(),
      outputImages: [{ reference: `${REG}/app:${run.id}`, digest: digest('a') }],
      baseImages: [pulled('node', 'runtime', 'app'), pulled('golang', 'build-time', 'tools'), pulled('tools', 'runtime', 'tools')],
      steps: [
        { id: 'app', kind: 'build', status: 'Succeeded', durationMs: 10 },
        { id: 'tools', kind: 'build', status: 'Succeeded', durationMs: 10 },
        { id: 'check', kind: 'cmd', status: 'Succeeded', durationMs: 5 },
        { id: 'acb_step_3', kind: 'push', status: 'Succeeded', durationMs: 5 },
      ],
    });
    expect((await cascade.runs.get(run.id)).steps?.map((s) => s.id)).toEqual(['app', 'tools', 'check', 'acb_step_3']);
    const shown = await cascade.tasks.show('checked');
    expect(shown.dependencies.map((d) => `${d.repository}:${d.tag} ${d.stage} ${d.step}`).sort()).toEqual([
      'golang:1 build-time tools',
      'node:9 runtime app',
      'tools:1 runtime tools',
    ]);
  });
});

describe('a quick build of a task file (cascade build --file x.yaml)', () => {
  it('takes its images from the push steps and its values from the run', async () => {
    const run = await cascade.runs.quickBuild({ registry: REG, images: [], context: 'https://git.example.com/app.git#main', file: 'acr-task.yaml', args: {}, platform: 'linux/amd64' });
    expect(run.spec.images).toEqual([`app:${run.id}`, 'app:latest', expect.stringMatching(/^tools:/)]);
    expect(run.spec.values?.['Run.ID']).toBe(run.id);
  });

  it('refuses a broken one before writing a run', async () => {
    files['acr-task.yaml'] = 'steps:\n  - build: -t app .\n  - push: [other]\n';
    await expect(cascade.runs.quickBuild({ registry: REG, images: [], context: 'https://git.example.com/app.git#main', file: 'acr-task.yaml', args: {}, platform: 'linux/amd64' })).rejects.toThrow(
      /task file line 3: push of other, which no build step builds/,
    );
    expect(ports.builder.started).toEqual([]);
  });
});

describe('a run that fails its check (point 4)', () => {
  it('leaves the digest tried: the same digest again starts nothing; a new digest or a manual run does', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [`${BASE}/node:9`], at: digest('1') });
    await w.push(`${BASE}/node:9`, digest('2'));
    const [failing] = w.buildsOf('app');
    await w.finish(failing?.id ?? '', { status: 'Failed' });
    expect((await w.runs()).map((r) => r.status)).toEqual(['Failed']);

    // Another delivery of the same digest (a second webhook, a poll): no run.
    await w.push(`${BASE}/node:9`, digest('2'), { deliveryId: 'another-delivery' });
    expect(w.buildsOf('app')).toHaveLength(1);
    const [edge] = await w.ports.dependencies.listForTask('app');
    expect(edge?.lastTriggeredDigest).toBe(digest('2'));
    expect(edge?.digest).toBe(digest('1'));

    await w.push(`${BASE}/node:9`, digest('3'));
    expect(w.buildsOf('app')).toHaveLength(2);
    await w.finishAll();
    await w.cascade.runs.runTaskByName('app', { trigger: 'Manual', cause: { kind: 'manual' } });
    expect(w.buildsOf('app')).toHaveLength(3);
  });
});
