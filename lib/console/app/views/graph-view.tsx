// /console/graph: the dependency graph drawn as SVG (laid out by dagre, left to right in rebuild
// order), each task coloured by its last run's status. Selecting an image (click, Enter, or the
// list) asks GET /api/graph?image=… and highlights what a change of it would rebuild, numbered
// in rebuild order. Pan and zoom by wheel and drag, the buttons, or the keyboard (arrows, + and
// -, 0 to fit) once the drawing has focus.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DependencyGraph } from '../../../domain/graph';
import type { RunStatus } from '../../../domain/types';
import { consoleApi } from '../console-api';
import { ErrorNote, Loading, StatusBadge } from '../components';
import { layoutGraph, type GraphDrawing, type LaidOutEdge, type LaidOutNode } from '../graph-layout';
import { lastStatusByTask, reachOf, type Reach } from '../graph-reach';
import { centreOn, fitBox, fitView, panBy, PAN_STEP, zoomAt, ZOOM_STEP, type View } from '../pan-zoom';
import { Link, navigate, paths, type ConsoleLocation } from '../router';
import { usePolled } from '../use-polled';

const STATUS_REFRESH_MS = 3000;
/** The runs read to colour the tasks: the newest of each task among them. */
const STATUS_RUNS = 1000;

export function GraphView({ location }: { location: ConsoleLocation }) {
  const selected = location.query.get('image') ?? undefined;
  const graph = usePolled(() => consoleApi.graph(), []);
  const runs = usePolled(() => consoleApi.listRuns({ top: STATUS_RUNS }), [], () => STATUS_REFRESH_MS);
  const focus = usePolled(() => (selected === undefined ? Promise.resolve(undefined) : consoleApi.graph(selected)), [selected]);
  const drawing = useMemo(() => (graph.data ? layoutGraph(graph.data) : undefined), [graph.data]);
  const statuses = useMemo(() => lastStatusByTask(runs.data ?? []), [runs.data]);
  const reach = selected !== undefined && focus.data ? reachOf(focus.data, focus.data.focus?.image ?? selected) : undefined;
  const select = (image: string | undefined) => navigate(paths.graph(image), { replace: true });

  return (
    <section aria-labelledby="graph-title" class="graph-view">
      <h1 id="graph-title">Dependency graph</h1>
      <ErrorNote error={graph.error} what="load the graph" />
      {!drawing ? (
        !graph.error && <Loading what="load the graph" />
      ) : drawing.nodes.length === 0 ? (
        <p class="empty">Nothing to draw yet: tasks appear once created, and their base images once each has run.</p>
      ) : (
        <>
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Selected image
              <select value={selected ?? ''} onChange={(e) => select((e.target as HTMLSelectElement).value || undefined)}>
                <option value="">none</option>
                {(graph.data?.images ?? []).map((image) => (
                  <option key={image.ref} value={image.ref}>
                    {image.ref}
                  </option>
                ))}
              </select>
            </label>
          </form>
          <ErrorNote error={focus.error} what={`load what ${selected ?? ''} reaches`} />
          {reach && <RebuildOrder reach={reach} focus={focus.data as DependencyGraph} />}
          <GraphCanvas drawing={drawing} statuses={statuses} reach={reach} onSelectImage={select} />
          <GraphLegend />
        </>
      )}
    </section>
  );
}

function RebuildOrder({ reach, focus }: { reach: Reach; focus: DependencyGraph }) {
  return (
    <div class="rebuild-order" aria-live="polite">
      <p>
        A new digest of <code>{reach.image}</code>{' '}
        {focus.rebuildOrder.length === 0 ? 'rebuilds nothing.' : 'rebuilds, in this order:'}
      </p>
      {focus.rebuildOrder.length > 0 && (
        <ol>
          {focus.rebuildOrder.map((level, i) => (
            <li key={i}>
              {level.map((task, j) => (
                <span key={task}>
                  {j > 0 && ', '}
                  <Link href={paths.task(task)}>{task}</Link>
                </span>
              ))}
            </li>
          ))}
        </ol>
      )}
      {reach.notRebuilt.length > 0 && (
        <p class="muted">
          Not rebuilt: {reach.notRebuilt.map((n) => `${n.task} (${n.why})`).join(', ')}
        </p>
      )}
      {focus.cycles.length > 0 && <p class="error">Loops: {focus.cycles.map((c) => c.join(' → ')).join('; ')}</p>}
    </div>
  );
}

function GraphLegend() {
  const statuses: Array<RunStatus | 'none'> = ['Succeeded', 'Running', 'Queued', 'Failed', 'Canceled', 'none'];
  return (
    <p class="legend">
      Tasks (boxes) are coloured by their last run: {statuses.map((s) => <StatusBadge key={s} status={s} />)}. Images are rounded. A dashed line would not trigger a
      rebuild. Select an image to see what its change rebuilds; open a task by clicking it.
    </p>
  );
}

interface CanvasProps {
  drawing: GraphDrawing;
  statuses: Map<string, RunStatus>;
  reach?: Reach;
  onSelectImage(image: string | undefined): void;
}

function GraphCanvas({ drawing, statuses, reach, onSelectImage }: CanvasProps) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 800, height: 480 });
  const [view, setView] = useState<View>(() => fitView(drawing, size));
  const drag = useRef<{ x: number; y: number; moved: boolean; pointer: number } | undefined>(undefined);
  const movedLately = useRef(false);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => setSize({ width: element.clientWidth || 800, height: element.clientHeight || 480 });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  // A new drawing, a new viewport size, or a new selection: the whole graph, or what the selected image reaches, in view.
  const fit = () => {
    const lit = reach ? drawing.nodes.filter((node) => reach.nodes.has(node.id)) : [];
    if (lit.length === 0) return fitView(drawing, size);
    const left = Math.min(...lit.map((n) => n.x - n.width / 2));
    const top = Math.min(...lit.map((n) => n.y - n.height / 2));
    const right = Math.max(...lit.map((n) => n.x + n.width / 2));
    const bottom = Math.max(...lit.map((n) => n.y + n.height / 2));
    return fitBox({ left, top, width: right - left, height: bottom - top }, size, 32);
  };
  const reachKey = reach ? [...reach.nodes].sort().join('\n') : '';
  useEffect(() => setView(fit()), [drawing, size.width, size.height, reachKey]);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    // Not passive: the page must not scroll while the wheel zooms.
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = element.getBoundingClientRect();
      const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
      setView((v) => zoomAt(v, factor, event.clientX - rect.left, event.clientY - rect.top));
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, []);

  const zoom = (factor: number) => setView((v) => zoomAt(v, factor, size.width / 2, size.height / 2));
  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
    const move = moves[event.key];
    if (move) setView((v) => panBy(v, move[0], move[1]));
    else if (event.key === '+' || event.key === '=') zoom(ZOOM_STEP);
    else if (event.key === '-' || event.key === '_') zoom(1 / ZOOM_STEP);
    else if (event.key === '0') setView(fit());
    else if (event.key === 'Escape') onSelectImage(undefined);
    else return;
    event.preventDefault();
  };
  const onPointerDown = (event: PointerEvent) => {
    if (event.button !== 0) return;
    drag.current = { x: event.clientX, y: event.clientY, moved: false, pointer: event.pointerId };
  };
  const onPointerMove = (event: PointerEvent) => {
    const d = drag.current;
    if (!d || d.pointer !== event.pointerId) return;
    const dx = event.clientX - d.x;
    const dy = event.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < 4) return;
    if (!d.moved) (event.currentTarget as Element).setPointerCapture(event.pointerId);
    d.moved = true;
    d.x = event.clientX;
    d.y = event.clientY;
    setView((v) => panBy(v, dx, dy));
  };
  const onPointerUp = () => {
    movedLately.current = drag.current?.moved ?? false;
    drag.current = undefined;
  };
  // A node reached with Tab is brought into view.
  const reveal = (node: LaidOutNode) =>
    setView((v) => {
      const [left, right] = [v.x + (node.x - node.width / 2) * v.scale, v.x + (node.x + node.width / 2) * v.scale];
      const [top, bottom] = [v.y + (node.y - node.height / 2) * v.scale, v.y + (node.y + node.height / 2) * v.scale];
      const inside = left >= 0 && top >= 0 && right <= size.width && bottom <= size.height;
      return inside ? v : centreOn(v, node.x, node.y, size);
    });
  const activate = (node: LaidOutNode) => {
    if (movedLately.current) {
      movedLately.current = false; // the end of a drag, not a click
      return;
    }
    if (node.kind === 'image') onSelectImage(reach?.image === node.name ? undefined : node.name);
    else navigate(paths.task(node.name));
  };

  return (
    <div class="graph-frame">
      <div class="graph-controls" role="toolbar" aria-label="Zoom">
        <button type="button" onClick={() => zoom(ZOOM_STEP)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => zoom(1 / ZOOM_STEP)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => setView(fit())}>
          Fit
        </button>
        <span class="muted">{Math.round(view.scale * 100)}%</span>
      </div>
      <div
        class="graph-canvas"
        ref={box}
        tabIndex={0}
        role="group"
        aria-label="Dependency graph drawing: arrow keys pan, + and - zoom, 0 fits (what the selected image reaches, else everything), Escape clears the selection"
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        <svg class={`graph${reach ? ' has-selection' : ''}`} width="100%" height="100%" role="img" aria-label={`${drawing.nodes.length} images and tasks`}>
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
            </marker>
            <marker id="arrow-lit" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head lit" />
            </marker>
          </defs>
          <g transform={`translate(${view.x} ${view.y}) scale(${view.scale})`}>
            {drawing.edges.map((edge) => (
              <GraphEdgeLine key={`${edge.from}>${edge.to}`} edge={edge} reach={reach} />
            ))}
            {drawing.nodes.map((node) => (
              <GraphNode key={node.id} node={node} status={node.kind === 'task' ? (statuses.get(node.name) ?? 'none') : undefined} reach={reach} selected={reach?.image === node.name && node.kind === 'image'} onActivate={activate} onFocus={reveal} />
            ))}
          </g>
        </svg>
      </div>
    </div>
  );
}

function GraphEdgeLine({ edge, reach }: { edge: LaidOutEdge; reach?: Reach }) {
  const [first, ...rest] = edge.points;
  if (!first) return null;
  const d = `M ${first.x} ${first.y} ${rest.map((p) => `L ${p.x} ${p.y}`).join(' ')}`;
  const lit = reach?.edges.has(`${edge.from}>${edge.to}`);
  const classes = ['edge', `edge-${edge.kind}`, edge.triggers ? '' : 'edge-quiet', reach ? (lit ? 'lit' : 'dimmed') : ''].filter(Boolean).join(' ');
  return (
    <path class={classes} d={d} marker-end={lit ? 'url(#arrow-lit)' : 'url(#arrow)'} data-from={edge.from} data-to={edge.to}>
      <title>{edge.kind === 'pushes' ? 'pushes' : edge.triggers ? 'built on: a change rebuilds it' : `built on, but a change would not rebuild it: ${edge.why ?? ''}`}</title>
    </path>
  );
}

interface NodeProps {
  node: LaidOutNode;
  status?: RunStatus | 'none';
  reach?: Reach;
  selected: boolean;
  onActivate(node: LaidOutNode): void;
  onFocus(node: LaidOutNode): void;
}

function GraphNode({ node, status, reach, selected, onActivate, onFocus }: NodeProps) {
  const order = node.kind === 'task' ? reach?.order.get(node.name) : undefined;
  const lit = reach?.nodes.has(node.id) ?? false;
  const classes = ['node', `node-${node.kind}`, status ? `status-${status.toLowerCase()}` : '', selected ? 'selected' : '', order !== undefined ? 'will-rebuild' : '', reach && !lit ? 'dimmed' : '']
    .filter(Boolean)
    .join(' ');
  const label =
    node.kind === 'image'
      ? `image ${node.name}${selected ? ', selected' : ''}: press Enter to ${selected ? 'clear the selection' : 'see what its change rebuilds'}`
      : `task ${node.name}, last run ${status === 'none' ? 'none' : status}${order !== undefined ? `, rebuilds at step ${order}` : ''}: press Enter to open`;
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    event.stopPropagation();
    onActivate(node);
  };
  return (
    <g
      class={classes}
      transform={`translate(${node.x - node.width / 2} ${node.y - node.height / 2})`}
      // An SVG attribute, so spelled as in SVG: preact sets it as given, and `tabIndex` would not count.
      tabindex={0}
      role="button"
      aria-label={label}
      aria-pressed={node.kind === 'image' ? selected : undefined}
      data-kind={node.kind}
      data-name={node.name}
      data-rebuild-order={order}
      onClick={() => onActivate(node)}
      onKeyDown={onKeyDown}
      onFocus={() => onFocus(node)}
    >
      <title>{label}</title>
      <rect width={node.width} height={node.height} rx={node.kind === 'image' ? 18 : 4} />
      <text x={node.width / 2} y={node.height / 2} dominant-baseline="central" text-anchor="middle">
        {node.name}
      </text>
      {order !== undefined && (
        <g class="order-badge" transform={`translate(${node.width - 4} 2)`}>
          <circle r="10" />
          <text dominant-baseline="central" text-anchor="middle">
            {order}
          </text>
        </g>
      )}
    </g>
  );
}
