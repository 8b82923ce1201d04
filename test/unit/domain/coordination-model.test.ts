// Random interleavings of what happens to cascade at once: pushes of a base (new digests,
// redeliveries, a second webhook, newer digests told before older ones), a handler killed part
// way (its message delivered again), builds ending (and telling of their pushes), and the
// reconciler's pass, every store request ordered by fast-check's scheduler. Whatever the order, on a diamond with a tail (base → a, b → c → d):
//   - each task builds at most once for each (base, digest) it is triggered by;
//   - no task ever has two builds running;
//   - no change is lost: once everything has settled, every task's last build pulled what the
//     registry holds of everything it builds on.
import fc from 'fast-check';
import { actingAs, fromScheduler, Gates, type Interleaver } from '../../support/interleaver';
import { BASE_REGISTRY, digest, imageOf, memoryWorld, type MemoryWorld } from '../../support/memory-world';
import type { BuildRequest } from '../../../lib/domain/ports';

const BASE = `${BASE_REGISTRY}/baseimages/node:9-alpine`;
const RUNS = Number(process.env.CASCADE_MODEL_RUNS ?? 1000);

// A push of digest n happened at start + n seconds; it may be told several times (a redelivery
// keeps its delivery id, a second webhook has its own), and in any order.
type Step =
  | { kind: 'push'; digest: number; delivery: number }
  /** A push whose handling dies after `after` store requests (a killed process); the queue delivers it again. */
  | { kind: 'crash'; digest: number; delivery: number; after: number }
  | { kind: 'finish' }
  | { kind: 'reconcile' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), digest: fc.integer({ min: 1, max: 3 }), delivery: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), digest: fc.integer({ min: 1, max: 3 }), delivery: fc.integer({ min: 1, max: 2 }), after: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'finish' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconcile' as const }) },
);

/** A diamond with a tail: each task and what it builds on. */
const DEPENDS: Array<[string, string[]]> = [
  ['a', [BASE]],
  ['b', [BASE]],
  ['c', [imageOf('a'), imageOf('b')]],
  ['d', [imageOf('c')]],
];

async function setUp(w: MemoryWorld): Promise<void> {
  for (const [task, on] of DEPENDS) await w.task(task, { on, at: digest('0') });
}

/** Watches the builder: two builds of one task open at once is a failure, when it happens. */
function watchBuilds(w: MemoryWorld): string[] {
  const violations: string[] = [];
  const start = w.builder.start.bind(w.builder);
  w.builder.start = async (request: BuildRequest) => {
    const task = request.spec.images[0]?.split(':')[0];
    // A start of the run already building is the same build again (the port is idempotent per run).
    const open = w.builder.building().filter((runId) => runId !== request.runId && w.builder.started.find((r) => r.runId === runId)?.spec.images[0]?.startsWith(`${task}:`));
    if (open.length > 0) violations.push(`${request.runId} of ${task} started while ${open.join(', ')} was building`);
    return start(request);
  };
  return violations;
}

describe('the exactly-once rules, under random interleavings', () => {
  it(`hold for ${RUNS} random schedules of pushes, build ends and reconciler passes`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(step, { minLength: 2, maxLength: 8 }), async (s, steps) => {
        // Every store request waits for the scheduler; an actor marked to crash stops at its nth.
        const gates = new Gates(fromScheduler(s));
        const crashAfter = new Map<string, number>();
        const made = new Map<string, number>();
        const interleaver: Interleaver = (call, act) => {
          const actor = call.actor ?? '';
          made.set(actor, (made.get(actor) ?? 0) + 1);
          if (crashAfter.get(actor) === made.get(actor)) gates.crash(actor);
          return gates.interleaver(call, act);
        };
        const w = memoryWorld({ interleaver });
        const settle = <T>(work: Promise<T>) => s.waitFor(work);
        await settle(setUp(w));
        const violations = watchBuilds(w);
        const start = w.clock.now().getTime();
        let newestPushed = 0;

        const crashed: Array<{ digest: number; delivery: number }> = [];
        const acting = steps.map(async (st, i) => {
          if (st.kind === 'push') {
            newestPushed += 1;
            const occurredAt = new Date(start + 1000 * st.digest).toISOString();
            await w.push(BASE, digest(String(st.digest)), { deliveryId: `webhook${st.delivery}-${st.digest}`, occurredAt });
          } else if (st.kind === 'crash') {
            newestPushed += 1;
            const actor = `crashing ${i}`;
            crashAfter.set(actor, st.after);
            crashed.push(st);
            // It never answers when it crashes: nobody waits for it.
            void actingAs(actor, () => w.push(BASE, digest(String(st.digest)), { deliveryId: `webhook${st.delivery}-${st.digest}`, occurredAt: new Date(start + 1000 * st.digest).toISOString() }));
          } else if (st.kind === 'finish') {
            const [open] = w.builder.building();
            if (open) await w.finish(open);
          } else {
            await w.cascade.recovery.reconcile({ queuedGraceMs: 0 });
          }
        });
        await s.waitIdle();
        await Promise.all(acting);
        // The queue delivers each message whose handler died again; the reconciler starts what a crash left Queued.
        for (const st of crashed) {
          await settle(w.push(BASE, digest(String(st.digest)), { deliveryId: `webhook${st.delivery}-${st.digest}`, occurredAt: new Date(start + 1000 * st.digest).toISOString() }));
        }
        await settle(w.cascade.recovery.reconcile({ queuedGraceMs: 0 }));
        // Everything settles: the queue, then every open build, until nothing moves.
        await settle(w.finishAll());

        const runs = await settle(w.runs());
        if (process.env.CASCADE_MODEL_DEBUG) {
          console.warn(runs.map((r) => `${r.id} ${r.taskName} ${r.status} ${r.origin?.root} ${JSON.stringify(r.cause)} pulled=${JSON.stringify(w.pulled.get(r.id)?.map((p) => p.digest.slice(7, 13)))} out=${w.outputOf(r.id).slice(7, 13)} ${r.error ?? ''}`).join('\n'));
        }
        const triggers = runs.filter((r) => r.cause.kind === 'image-update' && w.builder.started.some((b) => b.runId === r.id));
        const keys = triggers.map((r) => (r.cause.kind === 'image-update' ? `${r.taskName} ${r.cause.base}@${r.cause.newDigest}` : ''));
        expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
        expect(violations).toEqual([]);
        // No change lost: each task's last build pulled what the registry holds now of everything it builds on.
        for (const [task, on] of DEPENDS) {
          const last = w.finishedOf(task).at(-1);
          const expected = on.map((ref) => ({ ref, digest: w.current(ref) }));
          expect({ task, pulled: last ? w.pulled.get(last) : 'never built' }).toEqual({ task, pulled: newestPushed > 0 ? expected : 'never built' });
        }
      }),
      { numRuns: RUNS, ...(process.env.CASCADE_MODEL_SEED && { seed: Number(process.env.CASCADE_MODEL_SEED), path: process.env.CASCADE_MODEL_PATH, endOnFailure: true }) },
    );
  }, 120_000);
});
