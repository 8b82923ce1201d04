// Which view each console URL shows, and the URL of each view: `/console/runs`, `/console/runs/<id>`,
// `/console/tasks`, `/console/tasks/<name>`, `/console/graph[?image=…]`, `/console/webhooks`.
export const CONSOLE_ROOT = '/console';

/** Which view a URL shows, with what it names. */
export type ConsoleRoute =
  | { view: 'runs' }
  | { view: 'run'; id: string }
  | { view: 'tasks' }
  | { view: 'task'; name: string }
  | { view: 'graph' }
  | { view: 'webhooks' }
  | { view: 'not-found'; path: string };

/** The route of a path such as `/console/runs/da12`. */
export function routeOf(pathname: string): ConsoleRoute {
  const rest = pathname.startsWith(`${CONSOLE_ROOT}/`) ? pathname.slice(CONSOLE_ROOT.length + 1) : undefined;
  if (rest === undefined) return { view: 'not-found', path: pathname };
  const parts = rest.split('/').filter((part) => part !== '');
  let decoded: string[];
  try {
    decoded = parts.map(decodeURIComponent);
  } catch {
    return { view: 'not-found', path: pathname };
  }
  const [first, second, ...more] = decoded;
  if (more.length > 0) return { view: 'not-found', path: pathname };
  if (first === undefined || (first === 'runs' && second === undefined)) return { view: 'runs' };
  if (first === 'runs') return { view: 'run', id: second as string };
  if (first === 'tasks' && second === undefined) return { view: 'tasks' };
  if (first === 'tasks') return { view: 'task', name: second as string };
  if (first === 'graph' && second === undefined) return { view: 'graph' };
  if (first === 'webhooks' && second === undefined) return { view: 'webhooks' };
  return { view: 'not-found', path: pathname };
}

export const paths = {
  runs: (filter: { task?: string; status?: string; top?: number } = {}) => `${CONSOLE_ROOT}/runs${search(filter)}`,
  run: (id: string) => `${CONSOLE_ROOT}/runs/${encodeURIComponent(id)}`,
  tasks: () => `${CONSOLE_ROOT}/tasks`,
  task: (name: string) => `${CONSOLE_ROOT}/tasks/${encodeURIComponent(name)}`,
  graph: (image?: string) => `${CONSOLE_ROOT}/graph${search({ image })}`,
  webhooks: () => `${CONSOLE_ROOT}/webhooks`,
};

function search(params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}
