// Watching base images whose registry sends no events (Docker Hub's official images, public
// ECR, MCR, GHCR, a registry nobody can configure): every interval, one manifest HEAD per
// tracked tag and platform, and an image event when the image a task would pull has changed.
import { RegistryRateLimitedError } from './errors';
import { settleEach } from './concurrency';
import type { EventIntake } from './event-intake';
import type { Clock, DependencyStore, DigestResolver, PollState, PollStateStore, TaskStore, WebhookStore } from './ports';
import type { Dependency, ImageEvent, RegistryCredential, Task } from './types';

export interface PollerDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  pollStates: PollStateStore;
  webhooks: WebhookStore;
  digests: DigestResolver;
  intake: Pick<EventIntake, 'accept'>;
  clock: Clock;
  /** Is this a registry webhook provider (not a git host)? */
  isRegistryProvider: (provider: string) => boolean;
}

export interface PollerOptions {
  intervalMs: number;
  /**
   * Hosts that send events on their own, besides those a registry webhook speaks for: `*` matches
   * one label or more, e.g. `*.dkr.ecr.*.amazonaws.com` (ECR, through EventBridge).
   */
  eventDrivenHosts?: string[];
  /** Tags polled at once. */
  concurrency?: number;
}

export interface PollReport {
  polled: number;
  changed: Array<{ ref: string; platform: string; from?: string; to: string }>;
  skipped: Array<{ ref: string; reason: string }>;
  failed: Array<{ ref: string; error: string }>;
}

/** Every five minutes: often enough for a base image, rarely enough not to hammer Docker Hub. */
export const DEFAULT_POLL_INTERVAL_MS = 5 * 60 * 1000;

/** Longest a failing tag or a throttling host is left alone. */
const MAX_BACKOFF_MS = 60 * 60 * 1000;

interface Watched {
  registry: string;
  repository: string;
  tag: string;
  ref: string;
  /** Per platform, the edges of the tasks that build for it. */
  byPlatform: Map<string, Dependency[]>;
  credentials: RegistryCredential[];
}

export class Poller {
  private readonly intervalMs: number;
  private readonly eventDriven: RegExp[];
  private readonly concurrency: number;

  constructor(private readonly deps: PollerDeps, options: PollerOptions) {
    this.intervalMs = options.intervalMs;
    this.eventDriven = (options.eventDrivenHosts ?? []).map(hostPattern);
    this.concurrency = options.concurrency ?? 8;
  }

  /** One pass over every watched tag. Failures are recorded per tag and host, never thrown. */
  async poll(): Promise<PollReport> {
    const report: PollReport = { polled: 0, changed: [], skipped: [], failed: [] };
    const { watched, eventHosts } = await this.watchedTags(report);
    const now = this.deps.clock.now();
    const throttled = new Map<string, string>();
    const byHost = new Map<string, Watched[]>();
    for (const w of watched) {
      if (eventHosts.has(w.registry) || this.eventDriven.some((p) => p.test(w.registry))) {
        report.skipped.push({ ref: w.ref, reason: `${w.registry} sends push events to cascade` });
        continue;
      }
      byHost.set(w.registry, [...(byHost.get(w.registry) ?? []), w]);
    }
    for (const host of byHost.keys()) {
      const until = await this.deps.pollStates.hostNotBefore(host);
      if (until && Date.parse(until) > now.getTime()) throttled.set(host, until);
    }
    // Hosts in parallel, each host's tags in order: a 429 stops that host's pass at once.
    await settleEach([...byHost.entries()], this.concurrency, async ([host, tags]) => {
      for (const w of tags) {
        const until = throttled.get(host);
        if (until) {
          report.skipped.push({ ref: w.ref, reason: `${host} asked cascade to wait until ${until}` });
          continue;
        }
        await this.pollTag(w, now, report, throttled);
      }
    });
    return report;
  }

  private async pollTag(w: Watched, now: Date, report: PollReport, throttled: Map<string, string>): Promise<void> {
    const state: PollState = (await this.deps.pollStates.get(w.ref)) ?? { ref: w.ref, platforms: {}, failures: 0 };
    if (state.notBefore && Date.parse(state.notBefore) > now.getTime()) {
      report.skipped.push({ ref: w.ref, reason: `after ${state.failures} failed poll(s), the next is not before ${state.notBefore}` });
      return;
    }
    const events: ImageEvent[] = [];
    const next: PollState = { ref: w.ref, platforms: { ...state.platforms }, failures: 0, polledAt: now.toISOString(), ...(state.changedAt && { changedAt: state.changedAt }) };
    try {
      for (const [platform, deps] of [...w.byPlatform.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const before = state.platforms[platform];
        const known = state.digest && before ? { digest: state.digest, platformDigest: before } : undefined;
        const found = await this.deps.digests.resolveForPlatform(w, platform, w.credentials, known);
        report.polled += 1;
        next.digest = found.digest;
        next.platforms[platform] = found.platformDigest;
        // First look at a tag: compared with what the tasks were built from (a build may record
        // the index's digest or the platform image's, both mean "unchanged").
        const changed = before !== undefined ? before !== found.platformDigest : deps.some((d) => d.digest !== found.platformDigest && d.digest !== found.digest);
        if (!changed) continue;
        next.changedAt = now.toISOString();
        report.changed.push({ ref: w.ref, platform, ...(before !== undefined && { from: before }), to: found.platformDigest });
        events.push({
          kind: 'image',
          source: 'poller',
          registry: w.registry,
          repository: w.repository,
          tag: w.tag,
          digest: found.platformDigest,
          platform,
          occurredAt: now.toISOString(),
          // The change itself, so that a second pass (or a second poller) queues nothing new.
          deliveryId: `${w.ref}@${platform}:${before ?? 'first'}->${found.platformDigest}`,
        });
      }
    } catch (error) {
      const failures = state.failures + 1;
      const message = error instanceof Error ? error.message : String(error);
      let notBefore = new Date(now.getTime() + Math.min(this.intervalMs * 2 ** (failures - 1), MAX_BACKOFF_MS)).toISOString();
      if (error instanceof RegistryRateLimitedError) {
        const wait = error.retryAfterMs ?? Math.min(Math.max(this.intervalMs, 60_000) * 2 ** (failures - 1), MAX_BACKOFF_MS);
        notBefore = new Date(now.getTime() + Math.max(wait, 1000)).toISOString();
        throttled.set(w.registry, notBefore);
        await this.deps.pollStates.setHostNotBefore(w.registry, notBefore, message);
      }
      report.failed.push({ ref: w.ref, error: message });
      await this.deps.pollStates.put({ ...state, failures, notBefore, lastError: message });
      return;
    }
    // Events first: if queueing fails the state is not advanced and the next pass finds the
    // change again; the registry did nothing wrong, so there is no back-off.
    if (events.length > 0) {
      try {
        await this.deps.intake.accept('poller', { events, ignored: [] });
      } catch (error) {
        report.failed.push({ ref: w.ref, error: `queueing its change failed: ${error instanceof Error ? error.message : String(error)}` });
        return;
      }
    }
    await this.deps.pollStates.put(next);
  }

  /** Every tag some task builds on and could be rebuilt by, with the platforms those tasks build for. */
  private async watchedTags(report: PollReport): Promise<{ watched: Watched[]; eventHosts: Set<string> }> {
    const [tasks, webhooks] = await Promise.all([this.deps.tasks.list(), this.deps.webhooks.list()]);
    const eventHosts = new Set(webhooks.filter((w) => w.loginServer && this.deps.isRegistryProvider(w.provider)).map((w) => w.loginServer as string));
    const edges = await settleEach(tasks, this.concurrency, (task) => this.deps.dependencies.listForTask(task.name));
    const byName = new Map<string, Task>(tasks.map((t) => [t.name, t]));
    const watched = new Map<string, Watched>();
    edges.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        report.failed.push({ ref: `task ${tasks[i]!.name}`, error: String(outcome.reason) });
        return;
      }
      for (const dep of outcome.value) {
        const task = byName.get(dep.taskName);
        // A pinned base never triggers; a disabled task is still watched, so that it is rebuilt
        // when resumed if the base moved on meanwhile.
        if (!task || dep.pinned) continue;
        const ref = `${dep.registry}/${dep.repository}:${dep.tag}`;
        const w: Watched = watched.get(ref) ?? { registry: dep.registry, repository: dep.repository, tag: dep.tag, ref, byPlatform: new Map(), credentials: [] };
        w.byPlatform.set(task.platform, [...(w.byPlatform.get(task.platform) ?? []), dep]);
        w.credentials.push(...task.credentials.filter((c) => c.loginServer === dep.registry && !w.credentials.includes(c)));
        watched.set(ref, w);
      }
    });
    return { watched: [...watched.values()].sort((a, b) => a.ref.localeCompare(b.ref)), eventHosts };
  }
}

function hostPattern(glob: string): RegExp {
  const escaped = glob.toLowerCase().split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[a-z0-9.-]+');
  return new RegExp(`^${escaped}$`, 'i');
}
