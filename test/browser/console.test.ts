// The web console in a real browser (Debian's Chromium, driven by playwright-core) against a real
// local stack with the tutorial's registries and buildah builds: runs appear without a reload,
// a run's log streams while it builds, the graph joins the base to the task built on it, and a
// task's run button starts a run. Then the console as `chromium --dump-dom` prints it.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { Run } from '../../lib/domain/types';
import { CHROMIUM, launchChromium } from '../support/chromium';
import { startConsoleWorld, type ConsoleWorld } from '../support/console-world';
import { rememberSecrets } from '../support/secrets';
import { waitFor } from '../support/wait-for';

jest.setTimeout(300_000);
const BUILD_MS = 180_000;

let world: ConsoleWorld;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  [world, browser] = await Promise.all([startConsoleWorld(), launchChromium()]);
  await world.createTutorialTask('helloworld');
});

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

const pageErrors: string[] = [];

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
  // The app threw nothing uncaught on any page the test opened.
  expect(pageErrors.splice(0)).toEqual([]);
});

async function open(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  pages.push(page);
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
  await page.goto(`${world.stack.url}${path}`);
  // Gone if the page is ever loaded again: the views must change in place.
  await page.evaluate(() => {
    (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
  });
  return page;
}

async function stillTheSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce === true);
}

/** The runs table's rows as [id, task, status, trigger], top to bottom. */
function shownRuns(page: Page): Promise<string[][]> {
  return page.$$eval('table.runs-table tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent?.trim() ?? '')).map((cells) => [cells[0] ?? '', cells[1] ?? '', cells[3] ?? '', cells[4] ?? '']));
}

/** The rows of task runs (the base's quick builds left out). */
async function tasksRuns(page: Page): Promise<string[][]> {
  return (await shownRuns(page)).filter((row) => row[1] !== '(quick build)');
}

async function finishedRun(id: string): Promise<Run> {
  return waitFor(`run ${id} to end`, async () => (await world.runs()).find((r) => r.id === id && !['Queued', 'Running'].includes(r.status)), BUILD_MS, 250);
}

let manual: Run;
let imageUpdate: Run;

test('the runs view shows the Manual run, then the Image Update run, as they happen, without a reload', async () => {
  const page = await open('/console/runs');
  // The base's build is a run too (a quick build, of no task).
  await page.locator('table.runs-table tbody tr').first().waitFor();
  expect((await shownRuns(page)).map((row) => row[1])).toEqual(['(quick build)']);

  const queued = JSON.parse(await world.ok(['task', 'run', '--name', 'helloworld', '--no-wait', '--output', 'json'])) as Run;
  await page.locator(`tr[data-run-id="${queued.id}"]`).waitFor();
  await page.locator(`tr[data-run-id="${queued.id}"] .status-succeeded`).waitFor({ timeout: BUILD_MS });
  manual = await finishedRun(queued.id);
  expect(manual.status).toBe('Succeeded');
  expect(await tasksRuns(page)).toEqual([[manual.id, 'helloworld', 'Succeeded', 'Manual']]);

  await world.pushBase('9.11.2a');
  const started = await waitFor('an Image Update run', async () => (await world.runs()).find((r) => r.trigger === 'Image Update'), 60_000, 100);
  await page.locator(`tr[data-run-id="${started.id}"]`).waitFor();
  await page.locator(`tr[data-run-id="${started.id}"] .status-succeeded`).waitFor({ timeout: BUILD_MS });
  imageUpdate = await finishedRun(started.id);
  expect(imageUpdate.status).toBe('Succeeded');
  // Newest first, as list-runs.
  expect(await tasksRuns(page)).toEqual([
    [imageUpdate.id, 'helloworld', 'Succeeded', 'Image Update'],
    [manual.id, 'helloworld', 'Succeeded', 'Manual'],
  ]);
  expect(await page.locator('table.runs-table thead th').allTextContents()).toEqual(['RUN ID', 'TASK', 'PLATFORM', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION']);
  expect(await stillTheSamePage(page)).toBe(true);

  // The filters narrow the table and say so in the URL.
  await page.getByLabel('Status').selectOption('Failed');
  await page.getByText('No runs match.').waitFor();
  expect(new URL(page.url()).searchParams.get('status')).toBe('Failed');
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Task').selectOption('helloworld');
  await page.locator(`tr[data-run-id="${manual.id}"]`).waitFor();
  expect(new URL(page.url()).searchParams.get('task')).toBe('helloworld');
});

test('a run page shows its cause chain and output images, each hop a link', async () => {
  const page = await open(`/console/runs/${imageUpdate.id}`);
  await page.getByRole('heading', { name: `Run ${imageUpdate.id}` }).waitFor();
  await page.getByText('The run has ended; this is its whole log.').waitFor();
  const chain = page.locator('.cause-chain');
  await chain.getByText(`${world.baseRef} changed from`).waitFor();
  expect(await chain.getByRole('link', { name: imageUpdate.id }).getAttribute('href')).toBe(`/console/runs/${imageUpdate.id}`);
  await chain.getByText(/First event: distribution reported/).waitFor();
  const output = imageUpdate.outputImages[0];
  expect(output).toBeDefined();
  await page.locator('ul.images code', { hasText: output?.reference ?? '' }).waitFor();
  expect(await page.locator(`.digest[title="${output?.digest}"]`).count()).toBe(1);
  expect(await page.locator('pre.log').textContent()).toContain('Hello');
  await page.getByRole('link', { name: 'helloworld' }).first().click();
  await page.waitForURL(/\/console\/tasks\/helloworld$/);
  expect(await stillTheSamePage(page)).toBe(true);
});

test('the webhooks view shows the webhook and its last deliveries: what was ignored, and the run the push started', async () => {
  const page = await open('/console/webhooks');
  const card = page.locator('article[data-webhook="baseregistry"]');
  await card.waitFor();
  await card.getByText('distribution').waitFor();
  expect(await card.locator('dd code').first().textContent()).toMatch(/\/webhooks\/baseregistry$/);
  // The manifest push of the base's second build started the Image Update run, linked.
  const started = card.locator('.started').filter({ hasText: `started ${imageUpdate.id} for helloworld` });
  await started.waitFor();
  expect(await started.getByRole('link', { name: imageUpdate.id }).getAttribute('href')).toBe(`/console/runs/${imageUpdate.id}`);
  expect(await card.getByText(`${world.baseRef}@${imageUpdate.cause.kind === 'image-update' ? imageUpdate.cause.newDigest : ''}`).count()).toBeGreaterThan(0);
  // The registry's blob and pull notifications were ignored, folded away, and say why when opened.
  const folded = card.locator('.ignored-deliveries', { hasText: /ignored: blob push to baseimages\/node is not an image update/ }).first();
  const blobs = folded.locator('li.ignored', { hasText: /ignored: blob push to baseimages\/node is not an image update/ }).first();
  expect(await blobs.isVisible()).toBe(false);
  await folded.locator('summary').click();
  await blobs.waitFor();
});

test('the graph joins the base to the task built on it; selecting the base highlights the task, and the drawing pans and zooms', async () => {
  const page = await open('/console/graph');
  const baseNode = page.locator(`g.node[data-kind="image"][data-name="${world.baseRef}"]`);
  const taskNode = page.locator('g.node[data-kind="task"][data-name="helloworld"]');
  await baseNode.waitFor();
  await taskNode.waitFor();
  expect(await page.locator(`path.edge[data-from="image:${world.baseRef}"][data-to="task:helloworld"]`).count()).toBe(1);
  await page.locator('g.node[data-name="helloworld"].status-succeeded').waitFor();
  expect(await taskNode.getAttribute('data-rebuild-order')).toBeNull();

  await baseNode.click();
  await page.locator('g.node[data-name="helloworld"][data-rebuild-order="1"].will-rebuild').waitFor();
  expect(new URL(page.url()).searchParams.get('image')).toBe(world.baseRef);
  await page.locator('.rebuild-order').getByRole('link', { name: 'helloworld' }).waitFor();
  expect(await page.locator(`path.edge.lit[data-to="task:helloworld"]`).count()).toBe(1);

  // Keyboard: Escape clears the selection; a node is reached with Tab and selected with Enter.
  // Read once the page has drawn what the last action asked for (two animation frames on).
  const transform = async () => {
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    return page.locator('svg.graph > g').getAttribute('transform');
  };
  await page.locator('.graph-canvas').focus();
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('image'));
  await baseNode.focus();
  await page.keyboard.press('Enter');
  await page.locator('g.node[data-name="helloworld"][data-rebuild-order="1"]').waitFor();

  const before = await transform();
  await page.locator('.graph-canvas').focus();
  await page.keyboard.press('+');
  const zoomed = await transform();
  expect(zoomed).not.toBe(before);
  await page.keyboard.press('ArrowLeft');
  expect(await transform()).not.toBe(zoomed);
  await page.getByRole('button', { name: 'Zoom out' }).click();
  await page.getByRole('button', { name: 'Fit' }).click();
  expect(await transform()).toBe(before);
  const box = await page.locator('.graph-canvas').boundingBox();
  if (!box) throw new Error('the drawing has no box');
  await page.mouse.move(box.x + 10, box.y + box.height - 10);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((was) => document.querySelector('svg.graph > g')?.getAttribute('transform') !== was, before);
  const wheeled = await transform();
  await page.mouse.down();
  await page.mouse.move(box.x + 80, box.y + box.height - 60, { steps: 5 });
  await page.mouse.up();
  expect(await transform()).not.toBe(wheeled);
});

test('a run page streams a line the build prints after the page opened, and keeps the log when the run ends', async () => {
  const gate = await startGate();
  try {
    const context = await world.writeFolderContext('streaming', ['ARG GATE_URL', 'RUN echo waiting-$((1+1)) && wget -q -O /dev/null "$GATE_URL" && echo marker-$((40+2))']);
    await world.createTutorialTask('streaming', { image: 'streaming:{{.Run.ID}}', context, file: 'Dockerfile', args: ['--arg', `GATE_URL=${gate.url}`] });
    const run = JSON.parse(await world.ok(['task', 'run', '--name', 'streaming', '--no-wait', '--output', 'json'])) as Run;
    const page = await open(`/console/runs/${run.id}`);
    const log = page.locator('pre.log');
    // The build is held at the gate: what it printed so far is shown, the marker is not printed yet.
    // (The command line the log shows says `waiting-$((1+1))` and `marker-$((40+2))`: what it prints is the sum.)
    await page.waitForFunction(() => document.querySelector('pre.log')?.textContent?.includes('\nwaiting-2\n'), undefined, { timeout: BUILD_MS });
    await gate.asked;
    expect(await log.textContent()).not.toContain('marker-42');
    await page.locator('h1 .status-running').waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).waitFor();

    gate.open();
    await page.waitForFunction(() => document.querySelector('pre.log')?.textContent?.includes('\nmarker-42\n'), undefined, { timeout: BUILD_MS });
    await page.getByText('The run has ended; this is its whole log.').waitFor({ timeout: BUILD_MS });
    expect(await page.locator('h1 .status').textContent()).toBe('Succeeded');
    expect(await log.textContent()).toContain('\nmarker-42\n');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    expect(await stillTheSamePage(page)).toBe(true);
  } finally {
    gate.open();
    await gate.close();
  }
});

test("a task page's run button starts a run and follows it; before its first run the task says its bases are not captured yet", async () => {
  await world.createTutorialTask('fresh', { image: 'fresh:{{.Run.ID}}' });
  const page = await open('/console/tasks/fresh');
  await page.getByText('Dependencies not captured yet').waitFor();
  const before = (await world.runs()).map((r) => r.id);
  await page.getByRole('button', { name: 'Run task' }).click();
  await page.waitForURL(/\/console\/runs\/da\d+$/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
  expect(before).not.toContain(id);
  const run = (await world.runs()).find((r) => r.id === id);
  expect(run).toEqual(expect.objectContaining({ taskName: 'fresh', trigger: 'Manual' }));
  await page.locator('h1 .status-succeeded').waitFor({ timeout: BUILD_MS });
  expect(await stillTheSamePage(page)).toBe(true);

  await page.getByRole('link', { name: 'fresh' }).first().click();
  await page.locator('td').getByRole('link', { name: world.baseRef }).waitFor();
  expect(await page.getByText('Dependencies not captured yet').count()).toBe(0);
  // Disable, then enable again.
  await page.getByRole('button', { name: 'Disable task' }).click();
  await page.getByRole('button', { name: 'Enable task' }).waitFor();
  expect(JSON.parse(await world.ok(['task', 'show', '--name', 'fresh', '--output', 'json'])).task.status).toBe('Disabled');
  await page.getByRole('button', { name: 'Enable task' }).click();
  await page.getByRole('button', { name: 'Disable task' }).waitFor();
});

test('a stack that requires an API token: the console asks for one, keeps it for the tab, and sends it', async () => {
  const { token } = await world.stack.tokens.create('browser');
  rememberSecrets(token);
  try {
    const page = await open('/console/runs');
    await page.getByRole('heading', { name: 'This cascade requires an API token' }).waitFor();
    await page.getByRole('textbox', { name: 'API token' }).fill('not-a-token');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.getByRole('heading', { name: 'This cascade requires an API token' }).waitFor();
    await page.getByRole('textbox', { name: 'API token' }).fill(token);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.locator(`tr[data-run-id="${manual.id}"]`).waitFor();
    expect(await page.getByRole('heading', { name: 'This cascade requires an API token' }).count()).toBe(0);
    await page.reload();
    await page.locator(`tr[data-run-id="${manual.id}"]`).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('cascade.apiToken'))).toBe(token);
  } finally {
    await world.stack.tokens.revoke('browser');
  }
});

test('readable at 390 px wide, and every view reached from the keyboard', async () => {
  for (const path of ['/console/runs', `/console/runs/${manual.id}`, '/console/tasks', '/console/tasks/helloworld', '/console/graph', '/console/webhooks']) {
    const page = await open(path, { width: 390, height: 844 });
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle').catch(() => undefined);
    // Nothing wider than the screen but inside its own scrolling box (a table, the log).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect([path, overflow]).toEqual([path, 0]);
  }
  const page = await open('/console/runs');
  await page.locator(`tr[data-run-id="${manual.id}"]`).waitFor();
  const reached: string[] = [];
  for (let i = 0; i < 30 && !reached.includes(manual.id); i += 1) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
  }
  expect(reached).toEqual(expect.arrayContaining(['Runs', 'Tasks', 'Graph', 'Webhooks', manual.id]));
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/console/runs/${manual.id}$`));
});

test('chromium --dump-dom prints the runs view listing both runs, and the graph as an svg naming the base and the task', async () => {
  const dump = async (path: string) =>
    (await promisify(execFile)(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=10000', '--dump-dom', `${world.stack.url}${path}`], { timeout: 120_000, maxBuffer: 1 << 24 })).stdout;
  const runs = await dump('/console/runs');
  expect(runs).toContain(`data-run-id="${manual.id}"`);
  expect(runs).toContain(`data-run-id="${imageUpdate.id}"`);
  expect(runs).toMatch(/Image Update/);
  const graph = await dump('/console/graph');
  const svg = /<svg class="graph[\s\S]*<\/svg>/.exec(graph)?.[0] ?? '';
  expect(svg).toContain(`data-name="${world.baseRef}"`);
  expect(svg).toContain(`>${world.baseRef}</text>`);
  expect(svg).toContain('>helloworld</text>');
  expect(svg).toContain(`data-from="image:${world.baseRef}" data-to="task:helloworld"`);
});

interface Gate {
  url: string;
  /** Resolves when the build has asked the gate. */
  asked: Promise<void>;
  open(): void;
  close(): Promise<void>;
}

/** An HTTP endpoint that answers only once opened: the build's RUN waits on it. */
async function startGate(): Promise<Gate> {
  let opened = false;
  const waiting: Array<() => void> = [];
  let told: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => {
    told = resolve;
  });
  const server: Server = createServer((req, res) => {
    told();
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('open\n');
    if (opened) answer();
    else waiting.push(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`,
    asked,
    open() {
      opened = true;
      for (const answer of waiting.splice(0)) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
