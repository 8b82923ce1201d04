import { isTaskFile, parseTaskFile, sampleValues, stepOrder, TaskFileError, type TaskStep } from '../../../lib/taskfile/task-file';

const values = sampleValues('reg.example.com', 'app');
const lines = (...l: string[]) => l.join('\n') + '\n';

/** A step in a form a table can hold. */
function brief(step: TaskStep): string {
  const common = `${step.id}<${step.when.join(',') || '-'}>`;
  if (step.kind === 'build') {
    const args = Object.entries(step.buildArgs).map(([k, v]) => ` --build-arg ${k}=${v}`).join('');
    return `${common} build ${step.tags.map((t) => `-t ${t}`).join(' ')} -f ${step.dockerfile}${args}${step.target ? ` --target ${step.target}` : ''} ${step.context}`;
  }
  if (step.kind === 'cmd') return `${common} cmd ${[step.image, ...step.args].join(' ')}`;
  return `${common} push ${step.images.join(' ')}`;
}

describe('isTaskFile', () => {
  it.each([
    ['acr-task.yaml', true],
    ['ci/steps.YML', true],
    ['Dockerfile', false],
    ['Dockerfile-app', false],
    ['app.dockerfile', false],
    ['yaml', false],
  ])('%s → %s', (path, expected) => expect(isTaskFile(path)).toBe(expected));
});

// ACR's documented samples (Azure-Samples/acr-tasks and the YAML reference), keys cascade supports.
const ACR_SAMPLES: Array<[string, string, string[]]> = [
  [
    'build-hello-world.yaml',
    lines('version: v1.1.0', 'steps:', '  - build: -t $Registry/hello-world -f hello-world.dockerfile .'),
    ['acb_step_0<-> build -t reg.example.com/hello-world -f hello-world.dockerfile .'],
  ],
  [
    'build-push-hello-world.yaml',
    lines('version: v1.1.0', 'steps:', '  - build: -t $Registry/hello-world:$ID -f hello-world.dockerfile .', '  - push: ["$Registry/hello-world:$ID"]'),
    [
      'acb_step_0<-> build -t reg.example.com/hello-world:da1 -f hello-world.dockerfile .',
      'acb_step_1<acb_step_0> push reg.example.com/hello-world:da1',
    ],
  ],
  [
    'build-run-hello-world.yaml',
    lines('version: v1.1.0', 'steps:', '  - build: -t $Registry/hello-world -f hello-world.dockerfile .', '  - cmd: $Registry/hello-world'),
    ['acb_step_0<-> build -t reg.example.com/hello-world -f hello-world.dockerfile .', 'acb_step_1<acb_step_0> cmd reg.example.com/hello-world'],
  ],
  [
    'bash-echo-3.yaml',
    lines(
      'version: v1.1.0',
      'steps:',
      '  - id: hello-world',
      '    cmd: bash echo hello world',
      '  - id: hello-world-1',
      '    cmd: bash echo hello world 1',
      '  - id: hello-world-2',
      '    cmd: bash echo hello world 2',
    ),
    [
      'hello-world<-> cmd bash echo hello world',
      'hello-world-1<hello-world> cmd bash echo hello world 1',
      'hello-world-2<hello-world-1> cmd bash echo hello world 2',
    ],
  ],
  [
    'when-parallel.yaml (build, test, push)',
    lines(
      'version: v1.1.0',
      'steps:',
      '  # build the web image and its tests at once',
      '  - id: build-web',
      '    build: -t $Registry/hello-world:$ID .',
      '    when: ["-"]',
      '  - id: build-tests',
      '    build: -t $Registry/hello-world-tests ./funcTests',
      '    when: ["-"]',
      '  - id: push',
      '    push: ["$Registry/hello-world:$ID"]',
      '    when: ["build-web", "build-tests"]',
      '  - id: hello-world-web',
      '    cmd: $Registry/hello-world:$ID',
      '  - id: funcTests',
      '    cmd: $Registry/hello-world-tests',
      '    env: ["host=helloworld:80"]',
    ),
    [
      'build-web<-> build -t reg.example.com/hello-world:da1 -f Dockerfile .',
      'build-tests<-> build -t reg.example.com/hello-world-tests -f funcTests/Dockerfile ./funcTests',
      'push<build-web,build-tests> push reg.example.com/hello-world:da1',
      'hello-world-web<push> cmd reg.example.com/hello-world:da1',
      'funcTests<hello-world-web> cmd reg.example.com/hello-world-tests',
    ],
  ],
  [
    'with templates, build args and a target',
    lines(
      'version: v1.1.0',
      'stepTimeout: 1800',
      'steps:',
      '  - build: >-',
      '      -t {{.Run.Registry}}/app:{{.Run.ID}} -t {{.Run.Registry}}/app:latest',
      '      -f docker/Dockerfile --build-arg REGISTRY_NAME=$Registry --build-arg "GREETING=hello world" --target=runtime src',
      '    timeout: 60',
      '  - push:',
      '    - {{.Run.Registry}}/app:{{.Run.ID}}',
      '    - $Registry/app:latest',
    ),
    [
      'acb_step_0<-> build -t reg.example.com/app:da1 -t reg.example.com/app:latest -f docker/Dockerfile --build-arg REGISTRY_NAME=reg.example.com --build-arg GREETING=hello world --target runtime src',
      'acb_step_1<acb_step_0> push reg.example.com/app:da1 reg.example.com/app:latest',
    ],
  ],
];

describe('parseTaskFile: ACR samples', () => {
  it.each(ACR_SAMPLES)('%s', (_name, text, expected) => {
    expect(parseTaskFile(text, values).steps.map(brief)).toEqual(expected);
  });

  it('keeps timeouts, env, ignoreErrors, entryPoint and workingDirectory per step', () => {
    const file = parseTaskFile(
      lines(
        'version: v1.1.0',
        'stepTimeout: 900',
        'env: [CI=true]',
        'steps:',
        '  - build: -t app:$ID .',
        '    timeout: 120',
        '  - id: check',
        '    cmd: app:$ID --version',
        '    env:',
        '      - EXPECTED=9.11.2',
        '    entryPoint: node',
        '    workingDirectory: /srv',
        '    ignoreErrors: true',
      ),
      values,
    );
    const [build, check] = file.steps;
    expect(file.version).toBe('v1.1.0');
    expect(build).toMatchObject({ kind: 'build', timeout: 120, env: ['CI=true'], ignoreErrors: false, line: 5 });
    expect(check).toMatchObject({
      kind: 'cmd',
      image: 'app:da1',
      args: ['--version'],
      timeout: 900,
      env: ['CI=true', 'EXPECTED=9.11.2'],
      entryPoint: 'node',
      workingDirectory: '/srv',
      ignoreErrors: true,
      line: 7,
    });
  });

  it('orders steps by when, the file order where it leaves a choice', () => {
    const file = parseTaskFile(
      lines(
        'steps:',
        '  - id: push',
        '    push: [app:$ID]',
        '    when: [test]',
        '  - id: test',
        '    cmd: app:$ID',
        '    when: [build]',
        '  - id: build',
        '    build: -t app:$ID .',
        '    when: ["-"]',
      ),
      values,
    );
    expect(stepOrder(file).map((s) => s.id)).toEqual(['build', 'test', 'push']);
  });
});

const ERRORS: Array<[string, string, number, RegExp]> = [
  ['unknown top-level key', lines('version: v1.1.0', 'totalTimeout: 100', 'steps:', '  - cmd: bash'), 2, /unknown key "totalTimeout"/],
  ['unknown step key', lines('steps:', '  - build: -t app .', '    detach: true'), 3, /unknown key "detach" in a build step/],
  ['entryPoint on a build step', lines('steps:', '  - build: -t app .', '    entryPoint: sh'), 3, /unknown key "entryPoint"/],
  ['unknown step type', lines('version: v1.1.0', 'steps:', '  - build: -t app .', '  - deploy: app'), 4, /unknown step type "deploy"/],
  ['ACR run step', lines('steps:', '  - id: x', '    run: bash'), 3, /unknown step type "run"/],
  ['two step types', lines('steps:', '  - build: -t app .', '    push: [app]'), 2, /only one of build, cmd or push/],
  ['push of an image no step built', lines('steps:', '  - build: -t $Registry/app:$ID .', '  - push: ["$Registry/other:$ID"]'), 3, /push of reg\.example\.com\/other:da1, which no build step builds/],
  ['push with no build at all', lines('steps:', '  - cmd: bash', '  - push: [app]'), 3, /which no build step builds/],
  [
    'cycle in when',
    lines('steps:', '  - id: a', '    cmd: bash', '    when: [c]', '  - id: b', '    cmd: bash', '    when: [a]', '  - id: c', '    cmd: bash', '    when: [b]'),
    2,
    /cycle: a → c → b → a/,
  ],
  ['waits for itself', lines('steps:', '  - id: a', '    cmd: bash', '    when: [a]'), 2, /waits for itself/],
  ['when names no step', lines('steps:', '  - id: a', '    cmd: bash', '  - cmd: bash', '    when: [b]'), 4, /names "b", which is no step's id/],
  ['duplicate id', lines('steps:', '  - id: a', '    cmd: bash', '  - id: a', '    cmd: bash'), 4, /"a" is used twice/],
  ['unknown template variable', lines('steps:', '  - build: -t app:{{.Run.Tag}} .'), 2, /unknown template variable \{\{\.Run\.Tag\}\}/],
  ['unknown build option', lines('steps:', '  - build: -t app --no-cache .'), 2, /unknown build option "--no-cache"/],
  ['build without -t', lines('steps:', '  - cmd: bash', '  - build: -f Dockerfile .'), 3, /names its image with -t/],
  ['context outside', lines('steps:', '  - build: -t app ../elsewhere'), 2, /must be a folder inside/],
  ['bad timeout', lines('steps:', '  - cmd: bash', '    timeout: soon'), 3, /"timeout" must be a whole number/],
  ['bad env entry', lines('env:', '  - NOVALUE', 'steps:', '  - cmd: bash'), 2, /env entry "NOVALUE" must be KEY=value/],
  ['ignoreErrors not a boolean', lines('steps:', '  - cmd: bash', '    ignoreErrors: maybe'), 3, /must be true or false/],
  ['bad image reference', lines('steps:', '  - cmd: Not/Valid:Image:Ref'), 2, /invalid image reference/],
  ['not YAML', lines('version: v1.1.0', 'steps:', '  - cmd: bash', '     id: x', '  - cmd: bash'), 3, /Nested mappings/],
  ['duplicate key', lines('steps:', '  - cmd: bash', '    id: a', '    id: b'), 4, /./],
  ['no steps', lines('version: v1.1.0', 'steps: []'), 2, /at least one step/],
  ['unterminated quote', lines('steps:', '  - cmd: bash -c "echo'), 2, /unterminated " quote/],
];

describe('parseTaskFile: refusals name the line', () => {
  it.each(ERRORS)('%s', (_name, text, line, message) => {
    let error: unknown;
    try {
      parseTaskFile(text, values);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TaskFileError);
    expect((error as TaskFileError).message).toMatch(message);
    expect((error as TaskFileError).message).toMatch(new RegExp(`^task file line ${line}: `));
    expect((error as TaskFileError).line).toBe(line);
  });
});
