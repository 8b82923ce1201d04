// The Builder of tests and the bench: it builds nothing. It records each start and holds the
// build open until the test finishes it with a BuildResult, which goes where a real builder's
// result goes (the local stack's `onResult`). A test can also make starts fail, script what
// `describe` answers, or let every build finish by itself.
import { performance } from 'node:perf_hooks';
import type { Builder, BuildRequest, BuildState } from '../../lib/domain/ports';
import type { BuildResult } from '../../lib/domain/types';

/** A result's fields, over the default: a success that pulled and pushed nothing, finished now. */
export type BuildOutcome = Partial<Omit<BuildResult, 'runId'>>;

export interface RecordingBuilderOptions {
  /** Where results go, e.g. the local stack's `onResult`; without it they only reach `results`. */
  report?: (result: BuildResult) => Promise<void>;
  /**
   * Finishes every build by itself, in the turn after its start, with the outcome worked out at
   * the start (what a build pulls is what was there when it began).
   */
  finishEach?: (request: BuildRequest) => BuildOutcome;
  /** The id of the build of the `nth` start (from 1); `build-<run id>` when not given. */
  buildId?: (request: BuildRequest, nth: number) => string;
}

/** How a build goes on once started, without the test's hand: typically, it finishes. */
export interface WhenStarted {
  run: (request: BuildRequest) => Promise<unknown>;
  /**
   * Within the start call, before cascade records the run as Running (a push told of that
   * early); otherwise in the turn after start returns, as a real build ends later.
   */
  inStart?: boolean;
}

export class RecordingBuilder implements Builder {
  /** Each request taken, copied as it was at its start. */
  readonly started: BuildRequest[] = [];
  /** When each start came (performance.now()), for the bench's latencies. */
  readonly startedAt: number[] = [];
  /** Each result reported, in order. */
  readonly results: BuildResult[] = [];
  readonly canceled: string[] = [];
  /** The build ids of each describe() call. */
  readonly described: string[][] = [];
  /** What describe() answers per build id; a build not listed is missing. */
  readonly states = new Map<string, BuildState>();
  /** Errors of `whenStarted` runs, which nobody awaits. */
  readonly failures: unknown[] = [];
  /** Set to make the next starts fail with it (a RetryableError for "not now", anything else refuses). */
  failWith?: Error;
  whenStarted?: WhenStarted;

  private readonly open = new Map<string, BuildRequest>();
  private readonly buildIds = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly report?: (result: BuildResult) => Promise<void>;
  private readonly buildId: (request: BuildRequest, nth: number) => string;

  constructor(options: RecordingBuilderOptions = {}) {
    this.report = options.report;
    this.buildId = options.buildId ?? ((request) => `build-${request.runId}`);
    const { finishEach } = options;
    if (finishEach) {
      this.whenStarted = {
        inStart: true,
        run: async (request) => {
          const outcome = finishEach(request);
          this.later(() => this.finish(request.runId, outcome));
        },
      };
    }
  }

  async start(request: BuildRequest): Promise<{ buildId: string }> {
    if (this.failWith) throw this.failWith;
    // Idempotent per run, as the Builder port asks: a run whose build is open gets that build.
    const opened = this.buildIds.get(request.runId);
    if (opened !== undefined && this.open.has(request.runId)) return { buildId: opened };
    this.startedAt.push(performance.now());
    this.started.push(structuredClone(request));
    this.open.set(request.runId, request);
    this.waiters = this.waiters.filter((w) => (this.started.length >= w.count ? (w.resolve(), false) : true));
    const buildId = this.buildId(request, this.started.length);
    this.buildIds.set(request.runId, buildId);
    const then = this.whenStarted;
    if (then?.inStart) await then.run(request);
    else if (then) this.later(() => then.run(request));
    return { buildId };
  }

  async cancel(buildId: string): Promise<void> {
    this.canceled.push(buildId);
  }

  async describe(buildIds: string[]): Promise<BuildState[]> {
    this.described.push([...buildIds]);
    // As a builder would: a build still open is running, unless the test scripted otherwise.
    const open = new Set([...this.open.keys()].map((runId) => this.buildIds.get(runId)));
    return buildIds.map((buildId) => this.states.get(buildId) ?? (open.has(buildId) ? { buildId, state: 'running' as const } : { buildId, state: 'missing' as const, reason: `no build ${buildId} in this test` }));
  }

  /** Run ids of the builds started and not finished, oldest first. */
  building(): string[] {
    return [...this.open.keys()];
  }

  /**
   * Ends the run's build and reports its result. `outcome` may be worked out from the request
   * (and may act, e.g. push, before the result is reported): the build is no longer open by then.
   */
  async finish(runId: string, outcome: BuildOutcome | ((request: BuildRequest) => Promise<BuildOutcome>) = {}): Promise<BuildResult> {
    const request = this.open.get(runId);
    if (!request) throw new Error(`run ${runId} is not building`);
    this.open.delete(runId);
    const fields = typeof outcome === 'function' ? await outcome(request) : outcome;
    const result: BuildResult = { runId, status: 'Succeeded', finishedAt: new Date().toISOString(), outputImages: [], baseImages: [], ...fields };
    this.results.push(result);
    await this.report?.(result);
    return result;
  }

  /** Resolves once `count` builds in all have started; fails after `timeoutMs`, saying how many did. */
  startedCount(count: number, timeoutMs = 60_000): Promise<void> {
    if (this.started.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.started.length} of ${count} builds started within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Waits until no `whenStarted` run is in flight, including those they lead to. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  isIdle(): boolean {
    return this.inFlight.size === 0;
  }

  /** Runs `work` in the next turn, tracked by idle(). */
  private later(work: () => Promise<unknown>): void {
    const tracked: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve)).then(work).then(
      () => undefined,
      (error: unknown) => void this.failures.push(error),
    ).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
