import { decideImageUpdate, edgeTriggers } from '../../../lib/domain/decisions';
import { buildGraph, edgeTriggerState, type DependencyGraph } from '../../../lib/domain/graph';
import type { Dependency, ImageEvent, Task } from '../../../lib/domain/types';

const REG = 'reg.io';
const ALPINE = 'docker.io/library/alpine:3.20';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

function task(name: string, images: string[], overrides: Partial<Task> = {}): Task {
  return {
    name,
    registry: REG,
    images,
    context: { kind: 'git', url: `https://git.example.com/o/${name}.git`, branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile',
    buildArgs: {},
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [],
    dependenciesCapturedAt: '2026-11-28T00:00:00.000Z',
    createdAt: '2026-11-28T00:00:00.000Z',
    updatedAt: '2026-11-28T00:00:00.000Z',
    ...overrides,
  };
}

/** An edge from `ref` (`registry/repository:tag`, as stored) to `taskName`. */
function dep(taskName: string, ref: string, overrides: Partial<Dependency> = {}): Dependency {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  return {
    taskName,
    registry: ref.slice(0, slash),
    repository: ref.slice(slash + 1, colon),
    tag: ref.slice(colon + 1),
    digest: digest('0'),
    stage: 'runtime',
    pinned: false,
    capturedAt: '2026-11-28T00:00:00.000Z',
    capturedByRun: 'da1',
    ...overrides,
  };
}

// alpine → app-a; app-a pushes reg.io/a:latest → app-b and app-c; app-d builds on what both push.
const diamondTasks: Task[] = [
  task('app-a', ['a:latest', 'a:{{.Run.ID}}']),
  task('app-b', ['b']),
  task('app-c', ['c:latest']),
  task('app-d', ['d:{{.Run.ID}}'], { baseImageTrigger: { enabled: true, type: 'All' } }),
];
const diamondDeps: Dependency[] = [
  dep('app-a', ALPINE, { digest: digest('a') }),
  dep('app-b', 'reg.io/a:latest', { digest: digest('b'), capturedByRun: 'da2' }),
  dep('app-c', 'reg.io/a:latest', { digest: digest('c'), capturedByRun: 'da3' }),
  dep('app-d', 'reg.io/b:latest', { digest: digest('d'), stage: 'build-time', capturedByRun: 'da4' }),
  dep('app-d', 'reg.io/c:latest', { digest: digest('e'), capturedByRun: 'da4' }),
];

const at = '2026-11-28T00:00:00.000Z';
const trigger = { enabled: true, type: 'Runtime' as const };

const diamondGraph: DependencyGraph = {
  images: [
    { ref: 'docker.io/library/alpine:3.20', pushedBy: [] },
    { ref: 'reg.io/a:latest', pushedBy: ['app-a'] },
    { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
    { ref: 'reg.io/c:latest', pushedBy: ['app-c'] },
  ],
  tasks: [
    { name: 'app-a', enabled: true, baseImageTrigger: trigger, captured: true, pushes: ['reg.io/a:latest', 'reg.io/a:{{.Run.ID}}'] },
    { name: 'app-b', enabled: true, baseImageTrigger: trigger, captured: true, pushes: ['reg.io/b:latest'] },
    { name: 'app-c', enabled: true, baseImageTrigger: trigger, captured: true, pushes: ['reg.io/c:latest'] },
    { name: 'app-d', enabled: true, baseImageTrigger: { enabled: true, type: 'All' }, captured: true, pushes: ['reg.io/d:{{.Run.ID}}'] },
  ],
  edges: [
    { image: 'docker.io/library/alpine:3.20', task: 'app-a', stage: 'runtime', pinned: false, digest: digest('a'), capturedAt: at, capturedByRun: 'da1', triggers: true },
    { image: 'reg.io/a:latest', task: 'app-b', stage: 'runtime', pinned: false, digest: digest('b'), capturedAt: at, capturedByRun: 'da2', triggers: true },
    { image: 'reg.io/a:latest', task: 'app-c', stage: 'runtime', pinned: false, digest: digest('c'), capturedAt: at, capturedByRun: 'da3', triggers: true },
    { image: 'reg.io/b:latest', task: 'app-d', stage: 'build-time', pinned: false, digest: digest('d'), capturedAt: at, capturedByRun: 'da4', triggers: true },
    { image: 'reg.io/c:latest', task: 'app-d', stage: 'runtime', pinned: false, digest: digest('e'), capturedAt: at, capturedByRun: 'da4', triggers: true },
  ],
  rebuildOrder: [['app-a'], ['app-b', 'app-c'], ['app-d']],
  cycles: [],
};

describe('buildGraph: the whole graph', () => {
  it('describes the diamond: images with their pushers, tasks, edges, order', () => {
    expect(buildGraph(diamondTasks, diamondDeps)).toEqual(diamondGraph);
  });

  it('is the same whatever order tasks and dependencies come in', () => {
    expect(buildGraph([...diamondTasks].reverse(), [...diamondDeps].reverse())).toEqual(diamondGraph);
  });

  it('leaves out edges whose task no longer exists', () => {
    const graph = buildGraph(diamondTasks, [...diamondDeps, dep('gone', ALPINE)]);
    expect(graph.edges.map((edge) => edge.task)).not.toContain('gone');
    expect(graph).toEqual(diamondGraph);
  });

  it('lists tasks never built, with captured false and no edges', () => {
    const graph = buildGraph([task('fresh', ['fresh'], { dependenciesCapturedAt: undefined })], []);
    expect(graph).toEqual({
      images: [],
      tasks: [{ name: 'fresh', enabled: true, baseImageTrigger: trigger, captured: false, pushes: ['reg.io/fresh:latest'] }],
      edges: [],
      rebuildOrder: [],
      cycles: [],
    });
  });
});

describe('buildGraph: rebuild order and cycles', () => {
  const loopTasks = [task('app-a', ['a']), task('app-b', ['b'])];
  it.each<{ why: string; tasks: Task[]; deps: Dependency[]; order: string[][]; cycles: string[][] }>([
    { why: 'the diamond puts app-d once, after both its upstreams', tasks: diamondTasks, deps: diamondDeps, order: [['app-a'], ['app-b', 'app-c'], ['app-d']], cycles: [] },
    {
      why: 'a task on the base and on a task built on it waits for that task (longest path)',
      tasks: [task('app-a', ['a']), task('app-d', ['d'])],
      deps: [dep('app-a', ALPINE), dep('app-d', ALPINE), dep('app-d', 'reg.io/a:latest')],
      order: [['app-a'], ['app-d']],
      cycles: [],
    },
    {
      why: 'a task built on its own output is a cycle and rebuilds once',
      tasks: [task('self', ['self:latest'])],
      deps: [dep('self', ALPINE), dep('self', 'reg.io/self:latest')],
      order: [['self']],
      cycles: [['self', 'self']],
    },
    {
      why: 'a task built only on its own output: nothing outside starts it',
      tasks: [task('self', ['self:latest'])],
      deps: [dep('self', 'reg.io/self:latest')],
      order: [],
      cycles: [['self', 'self']],
    },
    {
      why: 'A → B → A rebuilds each once, from where the change enters',
      tasks: loopTasks,
      deps: [dep('app-a', ALPINE), dep('app-a', 'reg.io/b:latest'), dep('app-b', 'reg.io/a:latest')],
      order: [['app-a'], ['app-b']],
      cycles: [['app-a', 'app-b', 'app-a']],
    },
    {
      why: 'a change entering the loop at B starts with B',
      tasks: loopTasks,
      deps: [dep('app-b', ALPINE), dep('app-a', 'reg.io/b:latest'), dep('app-b', 'reg.io/a:latest')],
      order: [['app-b'], ['app-a']],
      cycles: [['app-a', 'app-b', 'app-a']],
    },
    {
      why: 'a loop through an edge that does not trigger is no cycle',
      tasks: loopTasks,
      deps: [dep('app-a', ALPINE), dep('app-a', 'reg.io/b:latest', { pinned: true }), dep('app-b', 'reg.io/a:latest')],
      order: [['app-a'], ['app-b']],
      cycles: [],
    },
    {
      why: 'a three-task loop is reported once, from its smallest name',
      tasks: [task('x', ['x']), task('y', ['y']), task('z', ['z'])],
      deps: [dep('y', ALPINE), dep('y', 'reg.io/x:latest'), dep('z', 'reg.io/y:latest'), dep('x', 'reg.io/z:latest')],
      order: [['y'], ['z'], ['x']],
      cycles: [['x', 'y', 'z', 'x']],
    },
    {
      why: 'an edge that does not trigger stops the change there',
      tasks: diamondTasks,
      deps: diamondDeps.map((d) => (d.taskName === 'app-b' ? { ...d, pinned: true } : d)),
      order: [['app-a'], ['app-c'], ['app-d']],
      cycles: [],
    },
    {
      why: 'a disabled first task rebuilds nothing',
      tasks: diamondTasks.map((t) => (t.name === 'app-a' ? { ...t, status: 'Disabled' as const } : t)),
      deps: diamondDeps,
      order: [],
      cycles: [],
    },
  ])('$why', ({ tasks, deps, order, cycles }) => {
    const graph = buildGraph(tasks, deps);
    expect(graph.rebuildOrder).toEqual(order);
    expect(graph.cycles).toEqual(cycles);
  });
});

describe('buildGraph: edges that do not trigger', () => {
  const base = task('app', ['app:{{.Run.ID}}']);
  const edge = dep('app', ALPINE, { digest: digest('1') });
  const probe: ImageEvent = {
    kind: 'image',
    source: 'test',
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: '3.20',
    digest: digest('2'),
    occurredAt: at,
    deliveryId: 'd-1',
  };
  it.each<{ why: string; t: Task; d: Dependency; triggers: boolean; reason?: string }>([
    { why: 'a runtime base', t: base, d: edge, triggers: true },
    { why: 'a disabled task', t: { ...base, status: 'Disabled' }, d: edge, triggers: false, reason: 'disabled task' },
    { why: 'the base trigger off', t: { ...base, baseImageTrigger: { enabled: false, type: 'Runtime' } }, d: edge, triggers: false, reason: 'base trigger off' },
    { why: 'a pinned base', t: base, d: { ...edge, pinned: true }, triggers: false, reason: 'pinned' },
    { why: 'a build-time base under Runtime', t: base, d: { ...edge, stage: 'build-time' }, triggers: false, reason: 'build-time base under Runtime' },
    { why: 'a build-time base under All', t: { ...base, baseImageTrigger: { enabled: true, type: 'All' } }, d: { ...edge, stage: 'build-time' }, triggers: true },
    { why: 'an edge already triggered for some digest', t: base, d: { ...edge, lastTriggeredDigest: digest('3'), lastTriggeredBy: 'd-0' }, triggers: true },
    { why: 'a disabled task that also pins (first check wins)', t: { ...base, status: 'Disabled' }, d: { ...edge, pinned: true }, triggers: false, reason: 'disabled task' },
  ])('$why → triggers $triggers, as decisions.ts decides', ({ t, d, triggers, reason }) => {
    const [graphEdge] = buildGraph([t], [d]).edges;
    expect(graphEdge).toMatchObject({ image: ALPINE, task: 'app', triggers });
    expect(graphEdge?.why).toBe(reason);
    expect(edgeTriggerState(t, d)).toEqual(reason === undefined ? { triggers } : { triggers, why: reason });
    expect(edgeTriggers(t, d).build).toBe(triggers);
    expect(decideImageUpdate(t, d, probe).build).toBe(triggers);
  });

  it('a base whose tag is gone does not trigger (decisions.ts alone would: a push clears tagGoneAt first)', () => {
    const gone = { ...edge, tagGoneAt: '2026-11-29T00:00:00.000Z' };
    expect(buildGraph([base], [gone]).edges[0]).toMatchObject({ triggers: false, why: 'tag gone' });
    expect(edgeTriggers(base, gone).build).toBe(true);
    expect(decideImageUpdate(base, gone, probe).build).toBe(true);
  });
});

describe('buildGraph: which task pushes an image', () => {
  it.each<{ why: string; registry?: string; template: string; ref: string; pushes: boolean }>([
    { why: 'a run id tag is never latest', template: 'helloworld:{{.Run.ID}}', ref: 'reg.io/helloworld:latest', pushes: false },
    { why: 'a run id tag matches a run id', template: 'app:{{.Run.ID}}', ref: 'reg.io/app:da12', pushes: true },
    { why: 'no tag means latest', template: 'base-app', ref: 'reg.io/base-app:latest', pushes: true },
    { why: 'an explicit latest', template: 'base-app:latest', ref: 'reg.io/base-app:latest', pushes: true },
    { why: 'no tag is not any tag', template: 'base-app', ref: 'reg.io/base-app:1.0', pushes: false },
    { why: 'literal parts around a variable match exactly', template: 'app:v{{.Run.ID}}', ref: 'reg.io/app:vda3', pushes: true },
    { why: 'a literal prefix missing', template: 'app:v{{.Run.ID}}', ref: 'reg.io/app:da3', pushes: false },
    { why: 'a variable matches no empty text', template: 'app:v{{.Run.ID}}', ref: 'reg.io/app:v', pushes: false },
    { why: 'two variables in a tag', template: 'app:{{.Run.Branch}}-{{.Run.Date}}', ref: 'reg.io/app:main-20261128-044111z', pushes: true },
    { why: 'a variable in the path', template: '{{.Run.TaskName}}/app:1', ref: 'reg.io/team/app:1', pushes: true },
    { why: 'spaces inside the braces', template: 'app:{{ .Run.ID }}', ref: 'reg.io/app:da12', pushes: true },
    { why: 'another registry', template: 'app:{{.Run.ID}}', ref: 'other.io/app:da12', pushes: false },
    { why: 'another repository', template: 'app:{{.Run.ID}}', ref: 'reg.io/app2:da12', pushes: false },
    { why: 'a registry spelled in capitals', registry: 'REG.IO', template: 'app:1', ref: 'reg.io/app:1', pushes: true },
    { why: 'Docker Hub official images', registry: 'docker.io', template: 'node:20', ref: 'docker.io/library/node:20', pushes: true },
    { why: 'a template that is no reference', template: 'App:1', ref: 'reg.io/app:1', pushes: false },
  ])('$template → $ref: $why', ({ registry, template, ref, pushes }) => {
    const graph = buildGraph([task('pusher', [template], { registry: registry ?? REG }), task('user', ['user'])], [dep('user', ref)]);
    expect(graph.images).toEqual([{ ref, pushedBy: pushes ? ['pusher'] : [] }]);
  });

  it.each([
    ['app:{{ .Run.ID }}', 'reg.io/app:{{.Run.ID}}'],
    ['base-app', 'reg.io/base-app:latest'],
    ['{{.Run.TaskName}}/app', 'reg.io/{{.Run.TaskName}}/app:latest'],
    ['App:1', 'reg.io/App:1'],
  ])('pushes %p is shown fully qualified as %p', (template, shown) => {
    expect(buildGraph([task('pusher', [template])], []).tasks[0]?.pushes).toEqual([shown]);
  });

  it("trusts the dependent's recorded upstream for a tag its templates do not name", () => {
    const producer = task('producer', ['app:{{.Run.ID}}']);
    const stranger = task('stranger', ['other:{{.Run.ID}}']);
    const consumer = task('consumer', ['consumer'], { upstream: ['producer', 'stranger'] });
    const graph = buildGraph([producer, stranger, consumer], [dep('producer', ALPINE), dep('consumer', 'reg.io/app:latest')]);
    expect(graph.images).toEqual([
      { ref: ALPINE, pushedBy: [] },
      { ref: 'reg.io/app:latest', pushedBy: ['producer'] },
    ]);
    expect(graph.rebuildOrder).toEqual([['producer'], ['consumer']]);
    const withoutUpstream = buildGraph([producer, stranger, { ...consumer, upstream: undefined }], [dep('producer', ALPINE), dep('consumer', 'reg.io/app:latest')]);
    expect(withoutUpstream.images[1]).toEqual({ ref: 'reg.io/app:latest', pushedBy: [] });
  });
});

describe('buildGraph: focus', () => {
  const edgesOf = (graph: DependencyGraph) => graph.edges.map((edge) => `${edge.image} → ${edge.task}`);
  const shape = (graph: DependencyGraph) => ({
    focus: graph.focus,
    images: graph.images,
    tasks: graph.tasks.map((t) => t.name),
    edges: edgesOf(graph),
    rebuildOrder: graph.rebuildOrder,
    cycles: graph.cycles,
  });

  it.each<{ why: string; focus: { image?: string; task?: string }; expected: ReturnType<typeof shape> }>([
    {
      why: 'an image: what a change of it rebuilds, through what they push',
      focus: { image: 'reg.io/a:latest' },
      expected: {
        focus: { image: 'reg.io/a:latest' },
        images: [
          { ref: 'reg.io/a:latest', pushedBy: [] },
          { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
          { ref: 'reg.io/c:latest', pushedBy: ['app-c'] },
        ],
        tasks: ['app-b', 'app-c', 'app-d'],
        edges: ['reg.io/a:latest → app-b', 'reg.io/a:latest → app-c', 'reg.io/b:latest → app-d', 'reg.io/c:latest → app-d'],
        rebuildOrder: [['app-b', 'app-c'], ['app-d']],
        cycles: [],
      },
    },
    {
      why: 'an image named the short way is spelled as the edges spell it',
      focus: { image: 'alpine:3.20' },
      expected: { ...shape(diamondGraph), focus: { image: ALPINE } },
    },
    {
      why: 'an image a task pushes and nothing builds on',
      focus: { image: 'reg.io/d:da7' },
      expected: { focus: { image: 'reg.io/d:da7' }, images: [{ ref: 'reg.io/d:da7', pushedBy: [] }], tasks: [], edges: [], rebuildOrder: [], cycles: [] },
    },
    {
      why: 'a task: what it builds on, transitively, and what builds on it',
      focus: { task: 'app-b' },
      expected: {
        focus: { task: 'app-b' },
        images: [
          { ref: ALPINE, pushedBy: [] },
          { ref: 'reg.io/a:latest', pushedBy: ['app-a'] },
          { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
        ],
        tasks: ['app-a', 'app-b', 'app-d'],
        edges: [`${ALPINE} → app-a`, 'reg.io/a:latest → app-b', 'reg.io/b:latest → app-d'],
        rebuildOrder: [['app-a'], ['app-b'], ['app-d']],
        cycles: [],
      },
    },
    {
      why: 'the last task: everything upstream of it',
      focus: { task: 'app-d' },
      expected: { ...shape(diamondGraph), focus: { task: 'app-d' } },
    },
    {
      why: 'an image and a task: the part of the image reach that goes through the task',
      focus: { image: 'reg.io/a:latest', task: 'app-b' },
      expected: {
        focus: { image: 'reg.io/a:latest', task: 'app-b' },
        images: [
          { ref: 'reg.io/a:latest', pushedBy: [] },
          { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
        ],
        tasks: ['app-b', 'app-d'],
        edges: ['reg.io/a:latest → app-b', 'reg.io/b:latest → app-d'],
        rebuildOrder: [['app-b'], ['app-d']],
        cycles: [],
      },
    },
    {
      why: 'an unknown image: empty, focus kept',
      focus: { image: 'reg.io/nothing:1' },
      expected: { focus: { image: 'reg.io/nothing:1' }, images: [], tasks: [], edges: [], rebuildOrder: [], cycles: [] },
    },
    {
      why: 'an image that is no reference: empty, focus kept as given',
      focus: { image: 'Not A Reference' },
      expected: { focus: { image: 'Not A Reference' }, images: [], tasks: [], edges: [], rebuildOrder: [], cycles: [] },
    },
    {
      why: 'an unknown task: empty, focus kept',
      focus: { task: 'nobody' },
      expected: { focus: { task: 'nobody' }, images: [], tasks: [], edges: [], rebuildOrder: [], cycles: [] },
    },
  ])('$why', ({ focus, expected }) => {
    expect(shape(buildGraph(diamondTasks, diamondDeps, focus))).toEqual(expected);
  });

  it('shows dependents that would not rebuild, with why', () => {
    const deps = diamondDeps.map((d) => (d.taskName === 'app-c' ? { ...d, pinned: true } : d));
    const graph = buildGraph(diamondTasks, deps, { image: 'reg.io/a:latest' });
    expect(graph.edges.find((edge) => edge.task === 'app-c')).toMatchObject({ triggers: false, why: 'pinned' });
    expect(graph.rebuildOrder).toEqual([['app-b'], ['app-d']]);
  });

  it('an image in a loop starts the order from itself', () => {
    const tasks = [task('app-a', ['a']), task('app-b', ['b'])];
    const deps = [dep('app-a', ALPINE), dep('app-a', 'reg.io/b:latest'), dep('app-b', 'reg.io/a:latest')];
    const graph = buildGraph(tasks, deps, { image: 'reg.io/a:latest' });
    expect(graph.images).toEqual([
      { ref: 'reg.io/a:latest', pushedBy: ['app-a'] },
      { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
    ]);
    expect(graph.rebuildOrder).toEqual([['app-b'], ['app-a']]);
    expect(graph.cycles).toEqual([['app-a', 'app-b', 'app-a']]);
  });
});
