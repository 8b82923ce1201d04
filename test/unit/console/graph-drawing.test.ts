// The graph view's drawing, without a browser: dagre's layout of GET /api/graph's answer (left to
// right in rebuild order, 200 nodes in well under a second), what a selected image highlights,
// and the pan and zoom arithmetic.
import { buildGraph } from '../../../lib/domain/graph';
import type { Dependency, Run, Task } from '../../../lib/domain/types';
import { layoutGraph, nodeId } from '../../../lib/console/app/graph-layout';
import { lastStatusByTask, reachOf } from '../../../lib/console/app/graph-reach';
import { centreOn, fitBox, fitView, MAX_SCALE, MIN_SCALE, panBy, zoomAt } from '../../../lib/console/app/pan-zoom';

const REGISTRY = 'registry.example:5000';
const AT = '2026-11-28T05:00:00.000Z';

function task(name: string, pushes: string): Task {
  return {
    name, registry: REGISTRY, images: [pushes], context: { kind: 'git', url: `https://git.example/${name}.git`, branch: 'main', folder: '.' }, dockerfile: 'Dockerfile',
    buildArgs: {}, platform: 'linux/amd64', status: 'Enabled', baseImageTrigger: { enabled: true, type: 'Runtime' }, commitTrigger: { enabled: true }, credentials: [],
    dependenciesCapturedAt: AT, createdAt: AT, updatedAt: AT,
  };
}

function on(taskName: string, repository: string, tag = 'latest'): Dependency {
  return { taskName, registry: REGISTRY, repository, tag, digest: `sha256:${'a'.repeat(64)}`, stage: 'runtime', pinned: false, capturedAt: AT, capturedByRun: 'da1' };
}

/** base → mid (pushes mid:latest) → leaf; base → side. */
function chain() {
  return buildGraph([task('mid', 'mid:latest'), task('leaf', 'leaf:latest'), task('side', 'side:latest')], [on('mid', 'base'), on('leaf', 'mid'), on('side', 'base')]);
}

describe('the layout', () => {
  it('draws images and tasks as nodes, an edge from each image to the tasks on it and from a task to the image it pushes, left to right in rebuild order', () => {
    const drawing = layoutGraph(chain());
    const x = (id: string) => drawing.nodes.find((n) => n.id === id)?.x ?? NaN;
    expect(drawing.nodes.map((n) => n.id).sort()).toEqual([nodeId.image(`${REGISTRY}/base:latest`), nodeId.image(`${REGISTRY}/mid:latest`), nodeId.task('leaf'), nodeId.task('mid'), nodeId.task('side')].sort());
    expect(drawing.edges.map((e) => [e.from, e.to, e.kind]).sort()).toEqual(
      [
        [nodeId.image(`${REGISTRY}/base:latest`), nodeId.task('mid'), 'builds-on'],
        [nodeId.image(`${REGISTRY}/base:latest`), nodeId.task('side'), 'builds-on'],
        [nodeId.image(`${REGISTRY}/mid:latest`), nodeId.task('leaf'), 'builds-on'],
        [nodeId.task('mid'), nodeId.image(`${REGISTRY}/mid:latest`), 'pushes'],
      ].sort(),
    );
    expect(x(nodeId.image(`${REGISTRY}/base:latest`))).toBeLessThan(x(nodeId.task('mid')));
    expect(x(nodeId.task('mid'))).toBeLessThan(x(nodeId.image(`${REGISTRY}/mid:latest`)));
    expect(x(nodeId.image(`${REGISTRY}/mid:latest`))).toBeLessThan(x(nodeId.task('leaf')));
    for (const edge of drawing.edges) expect(edge.points.length).toBeGreaterThanOrEqual(2);
    for (const node of drawing.nodes) {
      expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width / 2).toBeLessThanOrEqual(drawing.width);
    }
  });

  it('lays out 200 nodes, none overlapping', () => {
    // 10 bases, each with 19 tasks on it: 200 nodes.
    const tasks: Task[] = [];
    const deps: Dependency[] = [];
    for (let b = 0; b < 10; b += 1) {
      for (let t = 0; t < 19; t += 1) {
        tasks.push(task(`app-${b}-${t}`, `app-${b}-${t}:latest`));
        deps.push(on(`app-${b}-${t}`, `base${b}`));
      }
    }
    const drawing = layoutGraph(buildGraph(tasks, deps));
    expect(drawing.nodes).toHaveLength(200);
    const boxes = drawing.nodes.map((n) => ({ left: n.x - n.width / 2, right: n.x + n.width / 2, top: n.y - n.height / 2, bottom: n.y + n.height / 2 }));
    const overlapping = boxes.filter((a, i) => boxes.some((b, j) => i !== j && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
    expect(overlapping).toEqual([]);
  });
});

describe('what a selected image highlights', () => {
  it('numbers each task by its step in the rebuild order, and lights the edges the change takes', () => {
    const focus = buildGraph([task('mid', 'mid:latest'), task('leaf', 'leaf:latest'), task('side', 'side:latest')], [on('mid', 'base'), on('leaf', 'mid'), on('side', 'base')], { image: `${REGISTRY}/base:latest` });
    const reach = reachOf(focus, `${REGISTRY}/base:latest`);
    expect([...reach.order]).toEqual([['mid', 1], ['side', 1], ['leaf', 2]]);
    expect([...reach.edges].sort()).toEqual(
      [
        `${nodeId.image(`${REGISTRY}/base:latest`)}>${nodeId.task('mid')}`,
        `${nodeId.image(`${REGISTRY}/base:latest`)}>${nodeId.task('side')}`,
        `${nodeId.task('mid')}>${nodeId.image(`${REGISTRY}/mid:latest`)}`,
        `${nodeId.image(`${REGISTRY}/mid:latest`)}>${nodeId.task('leaf')}`,
      ].sort(),
    );
    expect(reach.notRebuilt).toEqual([]);
  });

  it('says which tasks built on it would not rebuild, and why', () => {
    const pinned = { ...on('side', 'base'), pinned: true };
    const focus = buildGraph([task('mid', 'mid:latest'), task('side', 'side:latest')], [on('mid', 'base'), pinned], { image: `${REGISTRY}/base:latest` });
    const reach = reachOf(focus, `${REGISTRY}/base:latest`);
    expect([...reach.order.keys()]).toEqual(['mid']);
    expect(reach.notRebuilt).toEqual([{ task: 'side', why: 'pinned' }]);
  });

  it('colours each task by its newest run', () => {
    const run = (id: string, taskName: string, status: Run['status']) => ({ id, taskName, status }) as Run;
    expect([...lastStatusByTask([run('da3', 'a', 'Running'), run('da2', 'b', 'Failed'), run('da1', 'a', 'Succeeded')])]).toEqual([
      ['a', 'Running'],
      ['b', 'Failed'],
    ]);
  });
});

describe('pan and zoom', () => {
  it('zooms about the pointer, which stays over the same point of the drawing', () => {
    const view = { x: 10, y: 20, scale: 1 };
    const zoomed = zoomAt(view, 2, 110, 70);
    expect(zoomed.scale).toBe(2);
    // The drawing point under (110, 70) was (100, 50) and still is.
    expect([(110 - zoomed.x) / zoomed.scale, (70 - zoomed.y) / zoomed.scale]).toEqual([100, 50]);
    expect(zoomAt(view, 1000, 0, 0).scale).toBe(MAX_SCALE);
    expect(zoomAt(view, 0.0001, 0, 0).scale).toBe(MIN_SCALE);
  });

  it('fits the whole drawing, centred, never past 1:1; pans and centres', () => {
    expect(fitView({ width: 200, height: 100 }, { width: 1000, height: 500 }, 0)).toEqual({ scale: 1, x: 400, y: 200 });
    expect(fitView({ width: 2000, height: 500 }, { width: 1000, height: 500 }, 0)).toEqual({ scale: 0.5, x: 0, y: 125 });
    expect(panBy({ x: 1, y: 2, scale: 3 }, 10, -5)).toEqual({ x: 11, y: -3, scale: 3 });
    expect(centreOn({ x: 0, y: 0, scale: 2 }, 50, 25, { width: 200, height: 100 })).toEqual({ x: 0, y: 0, scale: 2 });
    // A part of the drawing, from (300, 100), 200 × 100, fitted into 1000 × 500: at 1:1, centred.
    expect(fitBox({ left: 300, top: 100, width: 200, height: 100 }, { width: 1000, height: 500 }, 0)).toEqual({ scale: 1, x: 100, y: 100 });
  });
});
