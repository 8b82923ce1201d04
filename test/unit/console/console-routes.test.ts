// The console's URLs: which view each path shows (client side), and which paths the servers
// answer with the console (server side).
import { isConsolePath } from '../../../lib/console/console-routes';
import { paths, routeOf } from '../../../lib/console/app/routes';

describe('routeOf', () => {
  it.each([
    ['/console/', { view: 'runs' }],
    ['/console/runs', { view: 'runs' }],
    ['/console/runs/', { view: 'runs' }],
    ['/console/runs/da12', { view: 'run', id: 'da12' }],
    ['/console/tasks', { view: 'tasks' }],
    ['/console/tasks/hello%2Dworld', { view: 'task', name: 'hello-world' }],
    ['/console/graph', { view: 'graph' }],
    ['/console/webhooks', { view: 'webhooks' }],
    ['/console/runs/da1/log', { view: 'not-found', path: '/console/runs/da1/log' }],
    ['/console/tasks/%E0%A4%A', { view: 'not-found', path: '/console/tasks/%E0%A4%A' }],
    ['/console/nothing', { view: 'not-found', path: '/console/nothing' }],
    ['/elsewhere', { view: 'not-found', path: '/elsewhere' }],
  ])('%s', (path, route) => {
    expect(routeOf(path)).toEqual(route);
  });

  it('reads back every path it makes', () => {
    expect(routeOf(paths.run('da7'))).toEqual({ view: 'run', id: 'da7' });
    expect(routeOf(paths.task('a/b'))).toEqual({ view: 'task', name: 'a/b' });
    expect(paths.runs({ task: 'app', status: 'Failed', top: undefined })).toBe('/console/runs?task=app&status=Failed');
    expect(paths.graph('127.0.0.1:5000/base:1')).toBe('/console/graph?image=127.0.0.1%3A5000%2Fbase%3A1');
  });
});

describe('isConsolePath', () => {
  it.each([
    ['/', true],
    ['/console', true],
    ['/console/', true],
    ['/console/assets/main-X.js', true],
    ['/consoles', false],
    ['/api/runs', false],
    ['/health', false],
    ['/webhooks/hub', false],
  ])('%s: %s', (path, served) => {
    expect(isConsolePath(path)).toBe(served);
  });
});
