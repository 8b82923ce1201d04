// The dependency graph as people look at it: which images each task builds on, which images it
// pushes, whether a change would trigger it, and in what order a change would rebuild. Pure.
import { baseKey, DEFAULT_TAG, parseImageReference } from '../images/reference';
import { edgeTriggers, type SkipCode } from './decisions';
import { cycles, levels, sortedNames, type Successors } from './graph-algorithms';
import { matchesRef, matchesRepository, templateMatcher, type RefParts, type TemplateMatcher } from './templates';
import type { BaseImageTriggerType, Dependency, DependencyStage, Task } from './types';

export interface GraphFocus {
  image?: string;
  task?: string;
}

export interface GraphImage {
  /** `registry/repository:tag`. */
  ref: string;
  /** Tasks in this graph that push it. */
  pushedBy: string[];
}

export interface GraphTask {
  name: string;
  enabled: boolean;
  baseImageTrigger: { enabled: boolean; type: BaseImageTriggerType };
  /** A run has recorded the task's bases. */
  captured: boolean;
  /** The task's image templates, fully qualified, `:latest` made explicit. */
  pushes: string[];
}

export interface GraphEdge {
  image: string;
  task: string;
  stage: DependencyStage;
  pinned: boolean;
  digest: string;
  capturedAt: string;
  capturedByRun: string;
  /** A new digest of `image` would rebuild `task`. */
  triggers: boolean;
  /** Why it would not: one of EDGE_WHY, or decisions.ts's own reason for a check this file has no short name for. */
  why?: string;
}

export interface DependencyGraph {
  focus?: GraphFocus;
  images: GraphImage[];
  tasks: GraphTask[];
  edges: GraphEdge[];
  /** Tasks a change would rebuild, level by level; a level builds after the one before it. */
  rebuildOrder: string[][];
  /** Each loop of triggering edges, as task names from the smallest, closed by it again: `[a, b, a]`. */
  cycles: string[][];
}

/** Short names for why an edge does not trigger. */
export const EDGE_WHY = {
  disabledTask: 'disabled task',
  triggerOff: 'base trigger off',
  pinned: 'pinned',
  buildTimeUnderRuntime: 'build-time base under Runtime',
  tagGone: 'tag gone',
} as const;

// ---------------------------------------------------------------------------------------------
// Whether an edge triggers

/** The short name of each static check of decisions.ts that can stop an edge. */
const WHY_BY_CODE: Partial<Record<SkipCode, string>> = {
  disabled: EDGE_WHY.disabledTask,
  'trigger-disabled': EDGE_WHY.triggerOff,
  pinned: EDGE_WHY.pinned,
  'trigger-type': EDGE_WHY.buildTimeUnderRuntime,
};

/** Whether a new digest of the edge's base would rebuild its task, and why not. */
export function edgeTriggerState(task: Task, dep: Dependency): { triggers: boolean; why?: string } {
  // The dispatcher's own static checks decide; a check without a short name says its reason.
  const decision = edgeTriggers(task, dep);
  if (!decision.build) return { triggers: false, why: WHY_BY_CODE[decision.code] ?? decision.reason };
  // The tag is gone from the registry: there is nothing whose change could arrive until it is pushed again.
  if (dep.tagGoneAt !== undefined) return { triggers: false, why: EDGE_WHY.tagGone };
  return { triggers: true };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function refOf(dep: Dependency): string {
  return `${dep.registry}/${dep.repository}:${dep.tag}`;
}

function pushIn<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The focus image as the edges spell it, or undefined when it is not a reference. */
function focusRef(image: string): string | undefined {
  try {
    const ref = parseImageReference(image);
    return ref.tag === undefined ? undefined : baseKey(ref); // edges name tags, never digests alone
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The whole graph, then the part in focus

interface WholeGraph {
  tasks: Map<string, Task>;
  matchers: Map<string, TemplateMatcher[]>;
  edges: GraphEdge[];
  edgesByImage: Map<string, GraphEdge[]>;
  edgesByTask: Map<string, GraphEdge[]>;
  /** Every image in an edge, with every task that pushes it. */
  pushers: Map<string, Set<string>>;
  /** Images in edges each task pushes. */
  pushedByTask: Map<string, string[]>;
}

function wholeGraph(tasks: Task[], dependencies: Dependency[]): WholeGraph {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const matchers = new Map(tasks.map((task) => [task.name, task.images.map((image) => templateMatcher(task.registry, image))]));
  const pushesRef = (parts: RefParts) =>
    tasks.filter((candidate) => (matchers.get(candidate.name) ?? []).some((m) => matchesRef(m, parts))).map((t) => t.name);
  const edges: GraphEdge[] = [];
  const pushers = new Map<string, Set<string>>();
  for (const dep of dependencies) {
    const task = byName.get(dep.taskName);
    if (!task) continue; // an edge left by a deleted task builds nothing
    const image = refOf(dep);
    edges.push({
      image,
      task: task.name,
      stage: dep.stage,
      pinned: dep.pinned,
      digest: dep.digest,
      capturedAt: dep.capturedAt,
      capturedByRun: dep.capturedByRun,
      ...edgeTriggerState(task, dep),
    });
    const parts = { name: `${dep.registry}/${dep.repository}`, tag: dep.tag };
    let who = pushers.get(image);
    if (!who) {
      who = new Set(pushesRef(parts)); // once per image, however many tasks build on it
      pushers.set(image, who);
    }
    // The run that captured this edge saw who pushed the tag: trust it where the templates only name the repository.
    for (const upstream of task.upstream ?? []) {
      if ((matchers.get(upstream) ?? []).some((m) => matchesRepository(m, parts))) who.add(upstream);
    }
  }
  edges.sort((a, b) => byString(a.image, b.image) || byString(a.task, b.task) || byString(a.stage, b.stage));
  const edgesByImage = new Map<string, GraphEdge[]>();
  const edgesByTask = new Map<string, GraphEdge[]>();
  for (const edge of edges) {
    pushIn(edgesByImage, edge.image, edge);
    pushIn(edgesByTask, edge.task, edge);
  }
  const pushedByTask = new Map<string, string[]>();
  for (const image of sortedNames(pushers.keys())) {
    for (const task of pushers.get(image) ?? []) pushIn(pushedByTask, task, image);
  }
  return { tasks: byName, matchers, edges, edgesByImage, edgesByTask, pushers, pushedByTask };
}

interface Selection {
  taskNames: Set<string>;
  edges: GraphEdge[];
  images: Set<string>;
}

/**
 * Everything downstream of `images`: every task built on them and, through what it pushes, on.
 * Edges that would not trigger are kept, so that the view can say why a task will not rebuild.
 */
function downstream(whole: WholeGraph, images: string[], into: Selection): void {
  const queue = [...images];
  for (let image = queue.shift(); image !== undefined; image = queue.shift()) {
    if (into.images.has(image)) continue;
    into.images.add(image);
    for (const edge of whole.edgesByImage.get(image) ?? []) {
      into.edges.push(edge);
      into.taskNames.add(edge.task);
      queue.push(...(whole.pushedByTask.get(edge.task) ?? []));
    }
  }
}

/** What `task` builds on, transitively: its bases, the tasks that push them, their bases… */
function upstreamOf(whole: WholeGraph, task: string, into: Selection): void {
  const seen = new Set<string>();
  const queue = [task];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    into.taskNames.add(name);
    for (const edge of whole.edgesByTask.get(name) ?? []) {
      into.edges.push(edge);
      into.images.add(edge.image);
      queue.push(...(whole.pushers.get(edge.image) ?? []));
    }
  }
}

const emptySelection = (): Selection => ({ taskNames: new Set(), edges: [], images: new Set() });

/** Both foci: the part of the image's reach that the task's own graph shares. */
function intersect(fromImage: Selection, fromTask: Selection, focusImage: string): Selection {
  const taskEdges = new Set(fromTask.edges);
  return {
    taskNames: new Set([...fromImage.taskNames].filter((name) => fromTask.taskNames.has(name))),
    edges: fromImage.edges.filter((edge) => taskEdges.has(edge)),
    images: new Set([...fromImage.images].filter((image) => image === focusImage || fromTask.images.has(image))),
  };
}

/** The part of the graph in focus, or undefined when the focus names nothing known. */
function select(whole: WholeGraph, focus: GraphFocus | undefined, focusImage: string | undefined): Selection | undefined {
  let fromImage: Selection | undefined;
  let fromTask: Selection | undefined;
  if (focus?.image !== undefined) {
    if (focusImage === undefined) return undefined;
    // Known: something builds on it, or some task pushes it.
    const pushed = [...whole.matchers.values()].some((ms) => ms.some((m) => matchesRef(m, splitRef(focusImage))));
    if (!whole.pushers.has(focusImage) && !pushed) return undefined;
    fromImage = emptySelection();
    downstream(whole, [focusImage], fromImage);
  }
  if (focus?.task !== undefined) {
    if (!whole.tasks.has(focus.task)) return undefined;
    fromTask = emptySelection();
    upstreamOf(whole, focus.task, fromTask);
    downstream(whole, whole.pushedByTask.get(focus.task) ?? [], fromTask);
  }
  if (fromImage && fromTask && focusImage !== undefined) return intersect(fromImage, fromTask, focusImage);
  return fromImage ?? fromTask ?? { taskNames: new Set(whole.tasks.keys()), edges: whole.edges, images: new Set(whole.pushers.keys()) };
}

function splitRef(ref: string): RefParts {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { name: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { name: ref, tag: DEFAULT_TAG };
}

// ---------------------------------------------------------------------------------------------
// Order and loops: which task a rebuild triggers; graph-algorithms.ts orders them and finds loops

/** Task → tasks a rebuild of it triggers (through the images it pushes), within the graph. */
function triggeredBy(edges: GraphEdge[], images: GraphImage[]): Successors {
  const pushedBy = new Map(images.map((image) => [image.ref, image.pushedBy]));
  const next = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (!edge.triggers) continue;
    for (const pusher of pushedBy.get(edge.image) ?? []) {
      const set = next.get(pusher) ?? new Set<string>();
      set.add(edge.task);
      next.set(pusher, set);
    }
  }
  return new Map([...next].map(([task, set]) => [task, sortedNames(set)]));
}

/** The tasks a change of `roots` rebuilds first: those with a triggering edge from one of them. */
function firstRebuilt(roots: string[], edges: GraphEdge[]): string[] {
  const rootSet = new Set(roots);
  return sortedNames(edges.filter((edge) => edge.triggers && rootSet.has(edge.image)).map((edge) => edge.task));
}

// ---------------------------------------------------------------------------------------------

function emptyGraph(focus: GraphFocus): DependencyGraph {
  return { focus, images: [], tasks: [], edges: [], rebuildOrder: [], cycles: [] };
}

/**
 * The graph of `tasks` and their recorded `dependencies`. Focus `image`: what a change of it
 * reaches; focus `task`: what it builds on and what builds on it; both: the task's part of the
 * image's reach. An unknown image or task gives an empty graph that keeps the focus, with a
 * parsable image spelled as the edges spell it (`node` → `docker.io/library/node:latest`).
 */
export function buildGraph(tasks: Task[], dependencies: Dependency[], focus?: GraphFocus): DependencyGraph {
  const focusImage = focus?.image === undefined ? undefined : focusRef(focus.image);
  const shownFocus: GraphFocus | undefined =
    focus === undefined ? undefined : { ...focus, ...(focus.image !== undefined && { image: focusImage ?? focus.image }) };
  const whole = wholeGraph(tasks, dependencies);
  const selection = select(whole, focus, focusImage);
  if (!selection) return emptyGraph(shownFocus ?? {});

  const taskNames = sortedNames(selection.taskNames);
  const graphTasks: GraphTask[] = taskNames.map((name) => {
    const task = whole.tasks.get(name)!;
    return {
      name,
      enabled: task.status === 'Enabled',
      baseImageTrigger: { enabled: task.baseImageTrigger.enabled, type: task.baseImageTrigger.type },
      captured: task.dependenciesCapturedAt !== undefined,
      pushes: sortedNames((whole.matchers.get(name) ?? []).map((m) => m.text)),
    };
  });
  const images: GraphImage[] = sortedNames(selection.images).map((ref) => {
    const pushers = whole.pushers.get(ref) ?? new Set(taskNames.filter((name) => (whole.matchers.get(name) ?? []).some((m) => matchesRef(m, splitRef(ref)))));
    return { ref, pushedBy: sortedNames([...pushers].filter((name) => selection.taskNames.has(name))) };
  });
  const edgeSet = new Set(selection.edges);
  const edges = whole.edges.filter((edge) => edgeSet.has(edge));

  const next = triggeredBy(edges, images);
  // Where a change starts: the focus image, or images nothing in the graph pushes.
  const roots = focusImage !== undefined ? [focusImage] : images.filter((image) => image.pushedBy.length === 0).map((image) => image.ref);
  return {
    ...(shownFocus !== undefined && { focus: shownFocus }),
    images,
    tasks: graphTasks,
    edges,
    rebuildOrder: levels(firstRebuilt(roots, edges), next),
    cycles: cycles(taskNames, next),
  };
}
