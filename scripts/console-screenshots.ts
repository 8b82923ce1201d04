// `npx tsx scripts/console-screenshots.ts`: the README's pictures of the web console, taken from
// a real run of the tutorial (the local stack, two registries, buildah builds) in Debian's
// Chromium: the runs view, a run page, the graph with the base selected, a task and the webhooks,
// and the runs view 390 px wide, written to docs/console/. Needs what the tests need (scripts/setup.sh).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '../lib/domain/types';
import { launchChromium } from '../test/support/chromium';
import { startConsoleWorld } from '../test/support/console-world';
import { waitFor } from '../test/support/wait-for';

const OUT = join(__dirname, '..', 'docs', 'console');

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const world = await startConsoleWorld();
  const browser = await launchChromium();
  try {
    for (const name of ['helloworld', 'helloworld2']) {
      await world.createTutorialTask(name);
      await world.ok(['task', 'run', '--name', name]);
    }
    await world.ok(['task', 'timer', 'add', '--name', 'helloworld', '--timer-name', 'nightly', '--schedule', '0 3 * * *']);
    await world.pushBase('9.11.2a');
    const updates = await waitFor(
      'the Image Update runs to end',
      async () => {
        const found = (await world.runs()).filter((r: Run) => r.trigger === 'Image Update');
        return found.length === 2 && found.every((r) => r.status !== 'Queued' && r.status !== 'Running') ? found : undefined;
      },
      180_000,
      250,
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const shoot = async (path: string, file: string, ready: string) => {
      await page.goto(`${world.stack.url}${path}`);
      await page.locator(ready).first().waitFor();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(OUT, file) });
      console.log(`written: docs/console/${file}`);
    };
    await shoot('/console/runs', 'runs.png', `tr[data-run-id="${updates[0]?.id}"] .status-succeeded`);
    await shoot(`/console/runs/${updates[0]?.id}`, 'run.png', 'text=The run has ended');
    await shoot(`/console/graph?image=${encodeURIComponent(world.baseRef)}`, 'graph.png', 'g.node[data-rebuild-order="1"]');
    await shoot('/console/tasks/helloworld', 'task.png', 'td >> text=runtime');
    await shoot('/console/webhooks', 'webhooks.png', '.started');
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot('/console/runs', 'runs-390.png', `tr[data-run-id="${updates[0]?.id}"]`);
  } finally {
    await browser.close();
    await world.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
