// The dependency graph as people look at it: which images each task builds on, which images it
// pushes, whether a change would trigger it, and in what order a change would rebuild. Pure.
import { baseKey, DEFAULT_TAG, parseImageReference } from '../images/reference';
import { edgeTriggers, type SkipCode } from './decisions';
import { renderTemplate, TEMPLATE_VARIABLES, type TemplateValues } from './templates';
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
// Matching image templates against references

interface RefParts {
  /** `registry/repository`. */
  name: string;
  tag: string;
}

interface TemplateMatcher {
  /** The template fully qualified, for people: `reg/app:{{.Run.ID}}`. */
  text: string;
  /** Undefined when the template cannot name an image (cascade could never push it). */
  name?: RegExp;
  tag?: RegExp;
  /** The tag part holds a variable. */
  variableTag?: boolean;
}

// A variable is rendered as a marker that is valid both in a path and in a tag, so that the
// reference grammar (registry normalisation, docker.io/library, implied `latest`) applies to
// the template as it does to every other reference; the markers then become wildcards.
const marker = (i: number) => `x0cascade0var${i}0x`;
const MARKERS: TemplateValues = Object.fromEntries(TEMPLATE_VARIABLES.map((name, i) => [name, marker(i)]));
const ANY_MARKER = /x0cascade0var(\d+)0x/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Literal parts exactly, each variable any non-empty text. */
function partPattern(part: string): RegExp {
  const literals = part.split(ANY_MARKER).filter((_piece, i) => i % 2 === 0);
  return new RegExp(`^${literals.map(escapeRegExp).join('.+')}$`);
}

function withVariableNames(text: string): string {
  return text.replace(ANY_MARKER, (_all, i: string) => `{{.${TEMPLATE_VARIABLES[Number(i)] ?? ''}}}`);
}

function templateMatcher(registry: string, template: string): TemplateMatcher {
  const raw = `${registry}/${template}`;
  let ref;
  try {
    ref = parseImageReference(`${registry}/${renderTemplate(template, MARKERS)}`);
  } catch {
    return { text: raw }; // not a reference whatever the variables hold: it pushes nothing
  }
  if (ref.tag === undefined) return { text: raw }; // a digest is pulled, never pushed
  const name = `${ref.registry}/${ref.repository}`;
  return {
    text: withVariableNames(baseKey(ref)),
    name: partPattern(name),
    tag: partPattern(ref.tag),
    variableTag: withVariableNames(ref.tag) !== ref.tag,
  };
}

function matchesRepository(m: TemplateMatcher, ref: RefParts): boolean {
  return m.name !== undefined && m.name.test(ref.name);
}

function matchesRef(m: TemplateMatcher, ref: RefParts): boolean {
  if (!matchesRepository(m, ref) || m.tag === undefined) return false;
  // `latest` is the tag moved on purpose; a run's variables (an id `da<N>`, a date, a commit)
  // never render to it, so only a literal `latest` (or no tag) claims it.
  if (ref.tag === DEFAULT_TAG && m.variableTag) return false;
  return m.tag.test(ref.tag);
}

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
const sorted = (items: Iterable<string>) => [...new Set(items)].sort(byString);

function byPath(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = byString(a[i] ?? '', b[i] ?? '');
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

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
  for (const image of sorted(pushers.keys())) {
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
// Order and loops

/** Task → tasks a rebuild of it triggers (through the images it pushes), within the graph. */
type Successors = Map<string, string[]>;

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
  return new Map([...next].map(([task, set]) => [task, sorted(set)]));
}

/** Tarjan's strongly connected components, iteratively so a long chain cannot overflow the stack. */
function stronglyConnected(nodes: string[], next: Successors): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
  };
  for (const start of nodes) {
    if (index.has(start)) continue;
    visit(start);
    const work = [{ node: start, i: 0 }];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const successors = next.get(frame.node) ?? [];
      if (frame.i < successors.length) {
        const w = successors[frame.i++]!;
        if (!index.has(w)) {
          visit(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest loop from `start` back to it inside `within` (breadth first, names in order). */
function shortestLoop(start: string, within: Set<string>, next: Successors): string[] | undefined {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const w of next.get(node) ?? []) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [node];
        for (let p = parent.get(node); p !== undefined; p = parent.get(p)) path.unshift(p);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, node);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/** A loop read from its smallest name, so that the same loop is always spelled the same way. */
function fromSmallest(loop: string[]): string[] {
  const open = loop.slice(0, -1);
  const first = open.indexOf(sorted(open)[0]!);
  const turned = [...open.slice(first), ...open.slice(0, first)];
  return [...turned, turned[0]!];
}

/**
 * Loops of triggering edges. A task whose push triggers itself is `[t, t]`; in a larger
 * tangle, loops are added, shortest first from the smallest task not yet on one, until every
 * task of the tangle is on a reported loop (every loop would be exponential in the worst case).
 */
function findCycles(taskNames: string[], next: Successors): string[][] {
  const cycles: string[][] = [];
  for (const name of taskNames) if ((next.get(name) ?? []).includes(name)) cycles.push([name, name]);
  const withoutSelf: Successors = new Map([...next].map(([task, ws]) => [task, ws.filter((w) => w !== task)]));
  for (const component of stronglyConnected(taskNames, withoutSelf)) {
    if (component.length < 2) continue;
    const within = new Set(component);
    const covered = new Set<string>();
    for (const start of sorted(component)) {
      if (covered.has(start)) continue;
      const loop = shortestLoop(start, within, withoutSelf);
      if (!loop) continue;
      loop.forEach((task) => covered.add(task));
      cycles.push(fromSmallest(loop));
    }
  }
  const unique = new Map(cycles.map((loop) => [loop.join('\u0000'), loop]));
  return [...unique.values()].sort(byPath);
}

/**
 * Levels of the tasks a change of `roots` rebuilds, each task one level after the last task it
 * waits for (longest path). Loops: walking depth first from the first level, in name order, an
 * edge back to a task already on the walk is dropped, so a task in a loop is placed where the
 * walk first meets it and never again (as the dispatcher does: a task met again in a change's
 * `via` is not built).
 */
function levels(roots: string[], edges: GraphEdge[], next: Successors): string[][] {
  const rootSet = new Set(roots);
  const first = sorted(edges.filter((edge) => edge.triggers && rootSet.has(edge.image)).map((edge) => edge.task));
  // Depth first from the first level: keep every edge but those back to a task on the walk.
  const kept = new Map<string, string[]>();
  const seen = new Set<string>();
  const onWalk = new Set<string>();
  for (const start of first) {
    if (seen.has(start)) continue;
    seen.add(start);
    onWalk.add(start);
    const work = [{ node: start, i: 0 }];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const successors = next.get(frame.node) ?? [];
      if (frame.i >= successors.length) {
        onWalk.delete(frame.node);
        work.pop();
        continue;
      }
      const w = successors[frame.i++]!;
      if (onWalk.has(w)) continue; // back edge (or a task triggering itself): the loop stops here
      pushIn(kept, frame.node, w);
      if (!seen.has(w)) {
        seen.add(w);
        onWalk.add(w);
        work.push({ node: w, i: 0 });
      }
    }
  }
  // Longest path over what is left, which has no loop: a task is placed once all before it are.
  const waitingFor = new Map<string, number>([...seen].map((task) => [task, 0]));
  for (const ws of kept.values()) for (const w of ws) waitingFor.set(w, (waitingFor.get(w) ?? 0) + 1);
  const level = new Map<string, number>(first.map((task) => [task, 1]));
  const ready = [...seen].filter((task) => waitingFor.get(task) === 0);
  for (let task = ready.shift(); task !== undefined; task = ready.shift()) {
    for (const w of kept.get(task) ?? []) {
      level.set(w, Math.max(level.get(w) ?? 0, (level.get(task) ?? 0) + 1));
      const left = (waitingFor.get(w) ?? 0) - 1;
      waitingFor.set(w, left);
      if (left === 0) ready.push(w);
    }
  }
  const byLevel: string[][] = [];
  for (const [task, n] of level) (byLevel[n - 1] ??= []).push(task);
  return byLevel.filter((tasks) => tasks.length > 0).map((tasks) => sorted(tasks));
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

  const taskNames = sorted(selection.taskNames);
  const graphTasks: GraphTask[] = taskNames.map((name) => {
    const task = whole.tasks.get(name)!;
    return {
      name,
      enabled: task.status === 'Enabled',
      baseImageTrigger: { enabled: task.baseImageTrigger.enabled, type: task.baseImageTrigger.type },
      captured: task.dependenciesCapturedAt !== undefined,
      pushes: sorted((whole.matchers.get(name) ?? []).map((m) => m.text)),
    };
  });
  const images: GraphImage[] = sorted(selection.images).map((ref) => {
    const pushers = whole.pushers.get(ref) ?? new Set(taskNames.filter((name) => (whole.matchers.get(name) ?? []).some((m) => matchesRef(m, splitRef(ref)))));
    return { ref, pushedBy: sorted([...pushers].filter((name) => selection.taskNames.has(name))) };
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
    rebuildOrder: levels(roots, edges, next),
    cycles: findCycles(taskNames, next),
  };
}
