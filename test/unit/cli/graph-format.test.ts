import { dotString, mermaidText, renderDot, renderMermaid, renderTree, shortDigest } from '../../../lib/cli/graph-format';
import type { DependencyGraph, GraphEdge, GraphTask } from '../../../lib/domain/graph';

const ALPINE = 'docker.io/library/alpine:3.20';
const at = '2026-11-28T00:00:00.000Z';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const trigger = { enabled: true, type: 'Runtime' as const };

function graphTask(name: string, pushes: string[], overrides: Partial<GraphTask> = {}): GraphTask {
  return { name, enabled: true, baseImageTrigger: trigger, captured: true, pushes, ...overrides };
}

function edge(image: string, task: string, c: string, overrides: Partial<GraphEdge> = {}): GraphEdge {
  return { image, task, stage: 'runtime', pinned: false, digest: digest(c), capturedAt: at, capturedByRun: 'da1', triggers: true, ...overrides };
}

// alpine → app-a; app-a pushes reg.io/a:latest → app-b and app-c; app-d builds on what both push.
const diamond: DependencyGraph = {
  images: [
    { ref: ALPINE, pushedBy: [] },
    { ref: 'reg.io/a:latest', pushedBy: ['app-a'] },
    { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
    { ref: 'reg.io/c:latest', pushedBy: ['app-c'] },
  ],
  tasks: [
    graphTask('app-a', ['reg.io/a:latest', 'reg.io/a:{{.Run.ID}}']),
    graphTask('app-b', ['reg.io/b:latest']),
    graphTask('app-c', ['reg.io/c:latest']),
    graphTask('app-d', ['reg.io/d:{{.Run.ID}}'], { baseImageTrigger: { enabled: true, type: 'All' } }),
  ],
  edges: [
    edge(ALPINE, 'app-a', 'a'),
    edge('reg.io/a:latest', 'app-b', 'b'),
    edge('reg.io/a:latest', 'app-c', 'c'),
    edge('reg.io/b:latest', 'app-d', 'd', { stage: 'build-time' }),
    edge('reg.io/c:latest', 'app-d', 'e'),
  ],
  rebuildOrder: [['app-a'], ['app-b', 'app-c'], ['app-d']],
  cycles: [],
};

// A loop (app-a ↔ app-b) and edges that do not trigger.
const tangled: DependencyGraph = {
  images: [
    { ref: ALPINE, pushedBy: [] },
    { ref: 'reg.io/a:latest', pushedBy: ['app-a'] },
    { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
  ],
  tasks: [
    graphTask('app-a', ['reg.io/a:latest']),
    graphTask('app-b', ['reg.io/b:latest']),
    graphTask('app-c', ['reg.io/c:latest'], { enabled: false }),
    graphTask('app-p', ['reg.io/p:latest']),
    graphTask('fresh', ['reg.io/fresh:latest'], { captured: false }),
    graphTask('scratch', [], {}),
  ],
  edges: [
    edge(ALPINE, 'app-a', '1'),
    edge(ALPINE, 'app-p', '5', { pinned: true, triggers: false, why: 'pinned' }),
    edge('reg.io/a:latest', 'app-b', '2'),
    edge('reg.io/a:latest', 'app-c', '4', { triggers: false, why: 'disabled task' }),
    edge('reg.io/b:latest', 'app-a', '3'),
  ],
  rebuildOrder: [['app-a'], ['app-b']],
  cycles: [['app-a', 'app-b', 'app-a']],
};

// The same loop seen from one of its images: every image in it has a pusher.
const loopFocus: DependencyGraph = {
  focus: { image: 'reg.io/a:latest' },
  images: [
    { ref: 'reg.io/a:latest', pushedBy: ['app-a'] },
    { ref: 'reg.io/b:latest', pushedBy: ['app-b'] },
  ],
  tasks: [graphTask('app-a', ['reg.io/a:latest']), graphTask('app-b', ['reg.io/b:latest'])],
  edges: [edge('reg.io/a:latest', 'app-b', '2'), edge('reg.io/b:latest', 'app-a', '3')],
  rebuildOrder: [['app-b'], ['app-a']],
  cycles: [['app-a', 'app-b', 'app-a']],
};

const empty: DependencyGraph = { focus: { task: 'nobody' }, images: [], tasks: [], edges: [], rebuildOrder: [], cycles: [] };

/** As the CLI receives it: through JSON, so optional fields are absent rather than undefined. */
const decoded = (graph: DependencyGraph): DependencyGraph => JSON.parse(JSON.stringify(graph)) as DependencyGraph;

describe('renderTree', () => {
  it.each<{ name: string; graph: DependencyGraph; expected: string }>([
    {
      name: 'the diamond: app-d met again says (see above)',
      graph: diamond,
      expected: [
        'docker.io/library/alpine:3.20',
        '└─ app-a  runtime  sha256:aaaaaaaaaaaa  pushes reg.io/a:latest, reg.io/a:{{.Run.ID}}',
        '   └─ reg.io/a:latest',
        '      ├─ app-b  runtime  sha256:bbbbbbbbbbbb  pushes reg.io/b:latest',
        '      │  └─ reg.io/b:latest',
        '      │     └─ app-d  build-time  sha256:dddddddddddd  pushes reg.io/d:{{.Run.ID}}',
        '      └─ app-c  runtime  sha256:cccccccccccc  pushes reg.io/c:latest',
        '         └─ reg.io/c:latest',
        '            └─ app-d  runtime  sha256:eeeeeeeeeeee  (see above)',
        'rebuild order: 1. app-a  2. app-b, app-c  3. app-d',
        '',
      ].join('\n'),
    },
    {
      name: 'a loop, a pinned base, a disabled task, tasks under no image',
      graph: tangled,
      expected: [
        'docker.io/library/alpine:3.20',
        '├─ app-a  runtime  sha256:111111111111  pushes reg.io/a:latest',
        '│  └─ reg.io/a:latest',
        '│     ├─ app-b  runtime  sha256:222222222222  pushes reg.io/b:latest',
        '│     │  └─ reg.io/b:latest',
        '│     │     └─ app-a  runtime  sha256:333333333333  (see above)',
        '│     └─ app-c  runtime  sha256:444444444444  (not triggering: disabled task)  pushes reg.io/c:latest',
        '└─ app-p  runtime  sha256:555555555555  (pinned)  pushes reg.io/p:latest',
        'bases not recorded yet: fresh',
        'builds on no recorded image: scratch',
        'rebuild order: 1. app-a  2. app-b',
        'cycle: app-a → app-b → app-a',
        '',
      ].join('\n'),
    },
    {
      name: 'a focus image in a loop is the root, with who pushes it',
      graph: loopFocus,
      expected: [
        'reg.io/a:latest  (pushed by app-a)',
        '└─ app-b  runtime  sha256:222222222222  pushes reg.io/b:latest',
        '   └─ reg.io/b:latest',
        '      └─ app-a  runtime  sha256:333333333333  pushes reg.io/a:latest',
        '         └─ reg.io/a:latest  (see above)',
        'rebuild order: 1. app-b  2. app-a',
        'cycle: app-a → app-b → app-a',
        '',
      ].join('\n'),
    },
    {
      name: 'a loop nothing outside reaches is still shown',
      graph: { ...loopFocus, focus: undefined, rebuildOrder: [] },
      expected: [
        'reg.io/a:latest  (pushed by app-a)',
        '└─ app-b  runtime  sha256:222222222222  pushes reg.io/b:latest',
        '   └─ reg.io/b:latest',
        '      └─ app-a  runtime  sha256:333333333333  pushes reg.io/a:latest',
        '         └─ reg.io/a:latest  (see above)',
        'nothing rebuilds',
        'cycle: app-a → app-b → app-a',
        '',
      ].join('\n'),
    },
    { name: 'an empty graph', graph: empty, expected: 'nothing rebuilds\n' },
  ])('$name', ({ graph, expected }) => {
    expect(renderTree(decoded(graph))).toBe(expected);
  });
});

describe('renderMermaid', () => {
  it('draws the diamond', () => {
    expect(renderMermaid(decoded(diamond))).toBe(
      [
        'flowchart TD',
        '  i1[("docker.io/library/alpine:3.20")]',
        '  i2[("reg.io/a:latest")]',
        '  i3[("reg.io/b:latest")]',
        '  i4[("reg.io/c:latest")]',
        '  t1["app-a"]',
        '  t2["app-b"]',
        '  t3["app-c"]',
        '  t4["app-d"]',
        '  i1 -->|runtime| t1',
        '  i2 -->|runtime| t2',
        '  i2 -->|runtime| t3',
        '  i3 -->|build-time| t4',
        '  i4 -->|runtime| t4',
        '  t1 ==> i2',
        '  t2 ==> i3',
        '  t3 ==> i4',
        '',
      ].join('\n'),
    );
  });

  it('dots the edges that do not trigger, labelled with why', () => {
    const lines = renderMermaid(decoded(tangled)).split('\n');
    expect(lines).toEqual(expect.arrayContaining(['  i1 -.->|pinned| t4', '  i2 -.->|disabled task| t3', '  i3 -->|runtime| t1', '  t2 ==> i3']));
  });

  it('escapes what would end a label', () => {
    const odd: DependencyGraph = {
      images: [{ ref: 'reg.io/a:latest', pushedBy: [] }],
      tasks: [graphTask('say "hi" #1', [])],
      edges: [edge('reg.io/a:latest', 'say "hi" #1', '1', { triggers: false, why: 'a|b <c>' })],
      rebuildOrder: [],
      cycles: [],
    };
    expect(renderMermaid(odd)).toBe(
      ['flowchart TD', '  i1[("reg.io/a:latest")]', '  t1["say #quot;hi#quot; #35;1"]', '  i1 -.->|a#124;b #lt;c#gt;| t1', ''].join('\n'),
    );
  });

  it.each([
    ['plain', 'plain'],
    ['"', '#quot;'],
    ['#quot;', '#35;quot;'],
    ['a|b', 'a#124;b'],
  ])('mermaidText(%p) is %p', (text, expected) => {
    expect(mermaidText(text)).toBe(expected);
  });
});

describe('renderDot', () => {
  it('draws the diamond', () => {
    expect(renderDot(decoded(diamond))).toBe(
      [
        'digraph cascade {',
        '  rankdir=LR;',
        '  i1 [shape=ellipse, label="docker.io/library/alpine:3.20"];',
        '  i2 [shape=ellipse, label="reg.io/a:latest"];',
        '  i3 [shape=ellipse, label="reg.io/b:latest"];',
        '  i4 [shape=ellipse, label="reg.io/c:latest"];',
        '  t1 [shape=box, label="app-a"];',
        '  t2 [shape=box, label="app-b"];',
        '  t3 [shape=box, label="app-c"];',
        '  t4 [shape=box, label="app-d"];',
        '  i1 -> t1 [label="runtime"];',
        '  i2 -> t2 [label="runtime"];',
        '  i2 -> t3 [label="runtime"];',
        '  i3 -> t4 [label="build-time"];',
        '  i4 -> t4 [label="runtime"];',
        '  t1 -> i2 [style=bold];',
        '  t2 -> i3 [style=bold];',
        '  t3 -> i4 [style=bold];',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('dashes the edges that do not trigger, labelled with why', () => {
    const lines = renderDot(decoded(tangled)).split('\n');
    expect(lines).toEqual(expect.arrayContaining(['  i1 -> t4 [label="pinned", style=dashed];', '  i2 -> t3 [label="disabled task", style=dashed];']));
  });

  it('draws an empty graph', () => {
    expect(renderDot(empty)).toBe('digraph cascade {\n  rankdir=LR;\n}\n');
  });

  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['a\\b', '"a\\\\b"'],
    ['two\nlines', '"two\\nlines"'],
  ])('dotString(%p) is %p', (text, expected) => {
    expect(dotString(text)).toBe(expected);
  });
});

describe('shortDigest', () => {
  it.each([
    [digest('a'), 'sha256:aaaaaaaaaaaa'],
    [`sha512:${'f'.repeat(128)}`, 'sha512:ffffffffffff'],
    ['sha256:abc', 'sha256:abc'],
  ])('%p → %p', (full, short) => {
    expect(shortDigest(full)).toBe(short);
  });
});
