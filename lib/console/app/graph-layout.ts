// The dependency graph (GET /api/graph) laid out for drawing, by dagre: images and tasks as
// nodes; an edge from each image to the tasks built on it, and from each task to the images it
// pushes that other tasks build on. Left to right is rebuild order: a change flows rightwards.
import { graphlib, layout } from '@dagrejs/dagre';
import type { DependencyGraph } from '../../domain/graph';

export type GraphNodeKind = 'image' | 'task';

export interface LaidOutNode {
  /** `image:<ref>` or `task:<name>`: unique across both kinds. */
  id: string;
  kind: GraphNodeKind;
  /** The image reference or the task name. */
  name: string;
  /** Centre and size, in the drawing's units (CSS pixels at zoom 1). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge {
  from: string;
  to: string;
  /** `builds-on`: image → task; `pushes`: task → image. */
  kind: 'builds-on' | 'pushes';
  /** A builds-on edge a change would not follow, and why. */
  triggers: boolean;
  why?: string;
  points: Array<{ x: number; y: number }>;
}

export interface GraphDrawing {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

export const nodeId = {
  image: (ref: string) => `image:${ref}`,
  task: (name: string) => `task:${name}`,
};

const NODE_HEIGHT = 36;
const CHAR_WIDTH = 7.3;
const NODE_PADDING = 28;

/** Wide enough for the label in the drawing's 12px monospace font. */
function nodeWidth(label: string): number {
  return Math.round(Math.min(420, Math.max(96, label.length * CHAR_WIDTH + NODE_PADDING)));
}

export function layoutGraph(graph: DependencyGraph): GraphDrawing {
  const g = new graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 64, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const nodes = new Map<string, Omit<LaidOutNode, 'x' | 'y'>>();
  const addNode = (kind: GraphNodeKind, name: string) => {
    const id = kind === 'image' ? nodeId.image(name) : nodeId.task(name);
    if (nodes.has(id)) return id;
    const node = { id, kind, name, width: nodeWidth(name), height: NODE_HEIGHT };
    nodes.set(id, node);
    g.setNode(id, { width: node.width, height: node.height });
    return id;
  };
  for (const task of graph.tasks) addNode('task', task.name);
  const edges: Array<Omit<LaidOutEdge, 'points'>> = [];
  const known = new Set<string>();
  const addEdge = (edge: Omit<LaidOutEdge, 'points'>) => {
    const key = `${edge.from}\u0000${edge.to}`;
    if (known.has(key)) return; // a task on an image in two stages: one line
    known.add(key);
    edges.push(edge);
    g.setEdge(edge.from, edge.to);
  };
  for (const image of graph.images) {
    const imageId = addNode('image', image.ref);
    for (const pusher of image.pushedBy) addEdge({ from: addNode('task', pusher), to: imageId, kind: 'pushes', triggers: true });
  }
  for (const edge of graph.edges) {
    addEdge({ from: addNode('image', edge.image), to: addNode('task', edge.task), kind: 'builds-on', triggers: edge.triggers, ...(edge.why !== undefined && { why: edge.why }) });
  }
  layout(g);
  const laidOut: LaidOutNode[] = [...nodes.values()].map((node) => {
    const at = g.node(node.id) as { x: number; y: number };
    return { ...node, x: at.x, y: at.y };
  });
  const size = g.graph() as { width?: number; height?: number };
  return {
    nodes: laidOut,
    edges: edges.map((edge) => ({ ...edge, points: ((g.edge(edge.from, edge.to) as { points?: Array<{ x: number; y: number }> } | undefined)?.points ?? []).map((p) => ({ x: p.x, y: p.y })) })),
    width: Math.max(1, size.width ?? 1),
    height: Math.max(1, size.height ?? 1),
  };
}
