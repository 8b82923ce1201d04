// The console's frame: the navigation, the view the URL names, and the token prompt when the API
// asks for one.
import { useEffect, useState } from 'preact/hooks';
import { apiTokenNeeded, onApiTokenChange } from './api-token';
import { Link, paths, routeOf, useConsoleLocation, type ConsoleRoute } from './router';
import { TokenPrompt } from './token-prompt';
import { GraphView } from './views/graph-view';
import { RunView } from './views/run-view';
import { RunsView } from './views/runs-view';
import { TaskView } from './views/task-view';
import { TasksView } from './views/tasks-view';
import { WebhooksView } from './views/webhooks-view';

const SECTIONS: Array<{ label: string; href: string; views: ConsoleRoute['view'][] }> = [
  { label: 'Runs', href: paths.runs(), views: ['runs', 'run'] },
  { label: 'Tasks', href: paths.tasks(), views: ['tasks', 'task'] },
  { label: 'Graph', href: paths.graph(), views: ['graph'] },
  { label: 'Webhooks', href: paths.webhooks(), views: ['webhooks'] },
];

function titleOf(route: ConsoleRoute): string {
  switch (route.view) {
    case 'run':
      return `Run ${route.id}`;
    case 'task':
      return `Task ${route.name}`;
    case 'not-found':
      return 'Not found';
    default:
      return route.view[0]?.toUpperCase() + route.view.slice(1);
  }
}

export function App() {
  const location = useConsoleLocation();
  const route = routeOf(location.pathname);
  const [tokenNeeded, setTokenNeeded] = useState(apiTokenNeeded());
  useEffect(() => onApiTokenChange(() => setTokenNeeded(apiTokenNeeded())), []);
  useEffect(() => {
    document.title = `${titleOf(route)} · cascade`;
  }, [location.pathname]);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={paths.runs()} class="brand">
          cascade
        </Link>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((section) => (
              <li key={section.href}>
                <Link href={section.href} aria-current={section.views.includes(route.view) ? 'page' : undefined}>
                  {section.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {tokenNeeded && <TokenPrompt />}
        <CurrentView route={route} location={location} />
      </main>
    </>
  );
}

function CurrentView({ route, location }: { route: ConsoleRoute; location: ReturnType<typeof useConsoleLocation> }) {
  switch (route.view) {
    case 'runs':
      return <RunsView location={location} />;
    case 'run':
      return <RunView id={route.id} />;
    case 'tasks':
      return <TasksView />;
    case 'task':
      return <TaskView name={route.name} />;
    case 'graph':
      return <GraphView location={location} />;
    case 'webhooks':
      return <WebhooksView />;
    case 'not-found':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            The console has no page at <code>{route.path}</code>. See the <Link href={paths.runs()}>runs</Link>.
          </p>
        </section>
      );
  }
}
