// Text renderings of a dependency graph as the API returns it (JSON-decoded): an indented tree
// for the terminal, Mermaid and Graphviz DOT for documents. Pure; `json` is the CLI's own
// JSON.stringify.
import type { DependencyGraph, GraphEdge } from '../domain/graph';

const BRANCH = '├─ ';
const LAST = '└─ ';
const PIPE = '│  ';
const SPACE = '   ';
/** What `why` says of a pinned edge, which the tree already marks `(pinned)`. */
const PINNED_WHY = 'pinned';

/** `sha256:` and the first 12 hex digits: enough to tell digests apart by eye. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 12) : digest.slice(0, colon + 1 + 12);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Images each task pushes, in the graph's image order. */
function pushedByTask(graph: DependencyGraph): Map<string, string[]> {
  const byTask = new Map<string, string[]>();
  for (const image of graph.images) {
    for (const task of image.pushedBy) byTask.set(task, [...(byTask.get(task) ?? []), image.ref]);
  }
  return byTask;
}

function rebuildOrderLine(levels: readonly (readonly string[])[]): string {
  if (levels.length === 0) return 'nothing rebuilds';
  return `rebuild order: ${levels.map((tasks, i) => `${i + 1}. ${tasks.join(', ')}`).join('  ')}`;
}

function cycleLine(cycle: readonly string[]): string {
  return `cycle: ${cycle.join(' → ')}`;
}

/** The edge as a tree line says it: task, stage, digest and whether it would trigger. */
function edgeWords(edge: GraphEdge): string[] {
  const words = [edge.task, edge.stage, shortDigest(edge.digest)];
  if (edge.pinned) words.push('(pinned)');
  if (!edge.triggers && edge.why !== PINNED_WHY) words.push(`(not triggering: ${edge.why ?? 'unknown'})`);
  return words;
}

/**
 * Each image a change starts from (the focus image, else those nothing in the graph pushes),
 * then the tasks built on it and, under each, the images it pushes, and so on. A task or an
 * image met again says `(see above)`, which also ends every loop.
 */
export function renderTree(graph: DependencyGraph): string {
  const lines: string[] = [];
  const tasks = new Map(graph.tasks.map((task) => [task.name, task]));
  const edgesByImage = groupBy(graph.edges, (edge) => edge.image);
  const pushes = pushedByTask(graph);
  const seenImages = new Set<string>();
  const seenTasks = new Set<string>();

  const children = <T>(items: readonly T[], indent: string, print: (item: T, lead: string, indent: string) => void) =>
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      print(item, indent + (last ? LAST : BRANCH), indent + (last ? SPACE : PIPE));
    });

  const printImage = (ref: string, lead: string, indent: string, note = ''): void => {
    if (seenImages.has(ref)) {
      lines.push(`${lead}${ref}  (see above)`);
      return;
    }
    seenImages.add(ref);
    lines.push(`${lead}${ref}${note}`);
    children(edgesByImage.get(ref) ?? [], indent, printTask);
  };
  const printTask = (edge: GraphEdge, lead: string, indent: string): void => {
    const words = edgeWords(edge);
    if (seenTasks.has(edge.task)) {
      lines.push(`${lead}${[...words, '(see above)'].join('  ')}`);
      return;
    }
    seenTasks.add(edge.task);
    const templates = tasks.get(edge.task)?.pushes ?? [];
    if (templates.length > 0) words.push(`pushes ${templates.join(', ')}`);
    lines.push(`${lead}${words.join('  ')}`);
    children(pushes.get(edge.task) ?? [], indent, (ref, childLead, childIndent) => printImage(ref, childLead, childIndent));
  };

  const focus = graph.focus?.image;
  const roots = graph.images.filter((image) => image.ref === focus || image.pushedBy.length === 0);
  // Then what only a loop reaches, so that every image is shown once.
  const rest = graph.images.filter((image) => !roots.includes(image));
  for (const image of [...roots, ...rest]) {
    if (seenImages.has(image.ref)) continue;
    printImage(image.ref, '', '', image.pushedBy.length > 0 ? `  (pushed by ${image.pushedBy.join(', ')})` : '');
  }

  const unseen = graph.tasks.filter((task) => !seenTasks.has(task.name));
  const neverBuilt = unseen.filter((task) => !task.captured).map((task) => task.name);
  const noBases = unseen.filter((task) => task.captured).map((task) => task.name);
  if (neverBuilt.length > 0) lines.push(`bases not recorded yet: ${neverBuilt.join(', ')}`);
  if (noBases.length > 0) lines.push(`builds on no recorded image: ${noBases.join(', ')}`);
  lines.push(rebuildOrderLine(graph.rebuildOrder), ...graph.cycles.map(cycleLine));
  return `${lines.join('\n')}\n`;
}

/** Node ids: `i<n>` for images, `t<n>` for tasks, in the graph's order; safe in Mermaid and DOT. */
interface NodeIds {
  images: Map<string, string>;
  tasks: Map<string, string>;
}

function nodeIds(graph: DependencyGraph): NodeIds {
  // Edges naming a node the lists lack still get one, so that no edge points nowhere.
  const images = [...new Set([...graph.images.map((image) => image.ref), ...graph.edges.map((edge) => edge.image)])];
  const tasks = [
    ...new Set([
      ...graph.tasks.map((task) => task.name),
      ...graph.edges.map((edge) => edge.task),
      ...graph.images.flatMap((image) => image.pushedBy),
    ]),
  ];
  return {
    images: new Map(images.map((ref, i) => [ref, `i${i + 1}`])),
    tasks: new Map(tasks.map((name, i) => [name, `t${i + 1}`])),
  };
}

/** Push edges `[task id, image id]`, task by task. */
function pushEdges(graph: DependencyGraph, ids: NodeIds): [string, string][] {
  const byTask = pushedByTask(graph);
  return [...ids.tasks].flatMap(([name, taskId]) => (byTask.get(name) ?? []).map((ref): [string, string] => [taskId, ids.images.get(ref)!]));
}

function edgeLabel(edge: GraphEdge): string {
  return edge.triggers ? edge.stage : (edge.why ?? 'not triggering');
}

/** Mermaid's entity codes: `"` would end a label, `|` an edge label, `#` start an entity. */
export function mermaidText(text: string): string {
  return text.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/\|/g, '#124;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

/**
 * `flowchart TD`: images as cylinders, tasks as boxes; `-->` an edge that triggers (labelled
 * with its stage), `-.->` one that does not (labelled with why), `==>` a task to what it pushes.
 */
export function renderMermaid(graph: DependencyGraph): string {
  const ids = nodeIds(graph);
  const lines = ['flowchart TD'];
  for (const [ref, id] of ids.images) lines.push(`  ${id}[("${mermaidText(ref)}")]`);
  for (const [name, id] of ids.tasks) lines.push(`  ${id}["${mermaidText(name)}"]`);
  for (const edge of graph.edges) {
    const arrow = edge.triggers ? '-->' : '-.->';
    lines.push(`  ${ids.images.get(edge.image)} ${arrow}|${mermaidText(edgeLabel(edge))}| ${ids.tasks.get(edge.task)}`);
  }
  for (const [taskId, imageId] of pushEdges(graph, ids)) lines.push(`  ${taskId} ==> ${imageId}`);
  return `${lines.join('\n')}\n`;
}

/** A DOT quoted string. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/** Graphviz: tasks as boxes, images as ellipses, dashed edges for those that do not trigger, bold for pushes. */
export function renderDot(graph: DependencyGraph): string {
  const ids = nodeIds(graph);
  const lines = ['digraph cascade {', '  rankdir=LR;'];
  for (const [ref, id] of ids.images) lines.push(`  ${id} [shape=ellipse, label=${dotString(ref)}];`);
  for (const [name, id] of ids.tasks) lines.push(`  ${id} [shape=box, label=${dotString(name)}];`);
  for (const edge of graph.edges) {
    const style = edge.triggers ? '' : ', style=dashed';
    lines.push(`  ${ids.images.get(edge.image)} -> ${ids.tasks.get(edge.task)} [label=${dotString(edgeLabel(edge))}${style}];`);
  }
  for (const [taskId, imageId] of pushEdges(graph, ids)) lines.push(`  ${taskId} -> ${imageId} [style=bold];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
