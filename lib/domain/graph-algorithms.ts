// Algorithms on a directed graph given as node → successors, whatever the nodes stand for. Node
// ids are strings so that results come in one order (by name) however the graph was built; every
// walk is iterative, so a long chain cannot overflow the stack. Pure.

export type Successors<N extends string = string> = ReadonlyMap<N, readonly N[]>;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Distinct, in name order. */
export function sortedNames<N extends string>(names: Iterable<N>): N[] {
  return [...new Set(names)].sort(byName);
}

function byPath(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = byName(a[i] ?? '', b[i] ?? '');
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** Tarjan's strongly connected components of the graph reachable from `nodes`. */
export function stronglyConnected<N extends string>(nodes: readonly N[], next: Successors<N>): N[][] {
  const index = new Map<N, number>();
  const low = new Map<N, number>();
  const stack: N[] = [];
  const onStack = new Set<N>();
  const components: N[][] = [];
  let counter = 0;
  const visit = (node: N) => {
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
        const component: N[] = [];
        let member: N | undefined;
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

/** The shortest loop from `start` back to it inside `within` (breadth first, successors in order). */
function shortestLoop<N extends string>(start: N, within: ReadonlySet<N>, next: Successors<N>): N[] | undefined {
  const parent = new Map<N, N>();
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
function fromSmallest<N extends string>(loop: N[]): N[] {
  const open = loop.slice(0, -1);
  const first = open.indexOf(sortedNames(open)[0]!);
  const turned = [...open.slice(first), ...open.slice(0, first)];
  return [...turned, turned[0]!];
}

/**
 * Loops among `nodes`, each from its smallest name and closed by it again (`[a, b, a]`), in
 * name order. A node that is its own successor is `[n, n]`; in a larger tangle, loops are
 * added, shortest first from the smallest node not yet on one, until every node of the tangle
 * is on a reported loop (every loop would be exponential in the worst case).
 */
export function cycles<N extends string>(nodes: readonly N[], next: Successors<N>): N[][] {
  const found: N[][] = [];
  for (const node of nodes) if ((next.get(node) ?? []).includes(node)) found.push([node, node]);
  const withoutSelf: Successors<N> = new Map([...next].map(([node, ws]) => [node, ws.filter((w) => w !== node)]));
  for (const component of stronglyConnected(nodes, withoutSelf)) {
    if (component.length < 2) continue;
    const within = new Set(component);
    const covered = new Set<N>();
    for (const start of sortedNames(component)) {
      if (covered.has(start)) continue;
      const loop = shortestLoop(start, within, withoutSelf);
      if (!loop) continue;
      loop.forEach((node) => covered.add(node));
      found.push(fromSmallest(loop));
    }
  }
  const unique = new Map(found.map((loop) => [loop.join('\u0000'), loop]));
  return [...unique.values()].sort(byPath);
}

/**
 * Levels of the nodes reachable from `first` (level 1), each node one level after the last one
 * it waits for (longest path), each level in name order. Loops: walking depth first from
 * `first`, in the order given and each node's successors in theirs, an edge back to a node
 * already on the walk is dropped, so a node in a loop is placed where the walk first meets it.
 */
export function levels<N extends string>(first: readonly N[], next: Successors<N>): N[][] {
  // Depth first from the first level: keep every edge but those back to a node on the walk.
  const kept = new Map<N, N[]>();
  const seen = new Set<N>();
  const onWalk = new Set<N>();
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
      if (onWalk.has(w)) continue; // back edge (or a node that is its own successor): the loop stops here
      const keptFrom = kept.get(frame.node);
      if (keptFrom) keptFrom.push(w);
      else kept.set(frame.node, [w]);
      if (!seen.has(w)) {
        seen.add(w);
        onWalk.add(w);
        work.push({ node: w, i: 0 });
      }
    }
  }
  // Longest path over what is left, which has no loop: a node is placed once all before it are.
  const waitingFor = new Map<N, number>([...seen].map((node) => [node, 0]));
  for (const ws of kept.values()) for (const w of ws) waitingFor.set(w, (waitingFor.get(w) ?? 0) + 1);
  const level = new Map<N, number>(first.map((node) => [node, 1]));
  const ready = [...seen].filter((node) => waitingFor.get(node) === 0);
  for (let node = ready.shift(); node !== undefined; node = ready.shift()) {
    for (const w of kept.get(node) ?? []) {
      level.set(w, Math.max(level.get(w) ?? 0, (level.get(node) ?? 0) + 1));
      const left = (waitingFor.get(w) ?? 0) - 1;
      waitingFor.set(w, left);
      if (left === 0) ready.push(w);
    }
  }
  const byLevel: N[][] = [];
  for (const [node, n] of level) (byLevel[n - 1] ??= []).push(node);
  return byLevel.filter((nodes) => nodes.length > 0).map((nodes) => sortedNames(nodes));
}
