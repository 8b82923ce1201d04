// What the graph view highlights: each task's last run status (its colour), and what a change of
// the selected image reaches (GET /api/graph?image=…): each task's step in the rebuild order, and
// the nodes and edges the change goes through. Pure.
import type { DependencyGraph } from '../../domain/graph';
import type { Run, RunStatus } from '../../domain/types';
import { nodeId } from './graph-layout';

/** Each task's newest run status among `runs` (newest first). */
export function lastStatusByTask(runs: Run[]): Map<string, RunStatus> {
  const last = new Map<string, RunStatus>();
  for (const run of runs) if (run.taskName && !last.has(run.taskName)) last.set(run.taskName, run.status);
  return last;
}

/** What a change of the selected image reaches: each task's place in the rebuild order, and the edges it takes. */
export interface Reach {
  image: string;
  order: Map<string, number>;
  nodes: Set<string>;
  edges: Set<string>;
  /** Tasks built on it that it would not rebuild, and why. */
  notRebuilt: Array<{ task: string; why: string }>;
}

export function reachOf(focus: DependencyGraph, image: string): Reach {
  const order = new Map<string, number>();
  focus.rebuildOrder.forEach((level, i) => level.forEach((task) => order.set(task, i + 1)));
  const nodes = new Set<string>([nodeId.image(image), ...[...order.keys()].map(nodeId.task)]);
  const edges = new Set<string>();
  for (const edge of focus.edges) {
    if (edge.triggers && order.has(edge.task)) edges.add(`${nodeId.image(edge.image)}>${nodeId.task(edge.task)}`);
  }
  for (const pushed of focus.images) {
    for (const pusher of pushed.pushedBy) {
      if (!order.has(pusher)) continue;
      nodes.add(nodeId.image(pushed.ref));
      edges.add(`${nodeId.task(pusher)}>${nodeId.image(pushed.ref)}`);
    }
  }
  const notRebuilt = focus.edges.filter((edge) => !edge.triggers && !order.has(edge.task)).map((edge) => ({ task: edge.task, why: edge.why ?? 'it would not trigger' }));
  return { image, order, nodes, edges, notRebuilt };
}
