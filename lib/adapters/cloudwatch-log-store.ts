// Run logs on AWS. CodeBuild writes a build's output itself, to the project's log group under a
// stream named after the build id's UUID; cascade never copies it. What cascade has to say about
// a run on its own (a build that could not start, for instance) goes to a stream of its own,
// `cascade/<runId>`, in the same group. Reading a run's log merges both streams by time.
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { ValidationError } from '../domain/errors';
import type { Clock, LogStore } from '../domain/ports';
import { systemClock } from '../domain/ports';
import { errorName, retryableIfTransient } from '../aws/sdk-errors';

export interface CloudWatchLogStoreOptions {
  /** The CodeBuild project's log group, e.g. `/aws/codebuild/cascade-prod`. */
  logGroupName: string;
  /** The run's CodeBuild build id (`project:uuid` or its ARN), when it has one. */
  buildIdOf: (runId: string) => Promise<string | undefined>;
  client?: CloudWatchLogsClient;
  clock?: Clock;
}

// Same rule as the file store: a run id must be a safe stream-name component.
const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
// PutLogEvents takes events up to 256 KiB; 60k characters stay under it in any encoding.
const MAX_EVENT_CHARS = 60_000;
// A bound on one read, far beyond any build's log (each page holds up to 1 MB).
const MAX_PAGES = 1000;

export class CloudWatchLogStore implements LogStore {
  private readonly client: CloudWatchLogsClient;
  private readonly clock: Clock;

  constructor(private readonly options: CloudWatchLogStoreOptions) {
    this.client = options.client ?? new CloudWatchLogsClient({});
    this.clock = options.clock ?? systemClock;
  }

  async append(runId: string, text: string): Promise<void> {
    const stream = notesStream(runId);
    if (text.length === 0) return;
    const timestamp = this.clock.now().getTime();
    const logEvents = chunks(text).map((message) => ({ timestamp, message }));
    const put = () => this.client.send(new PutLogEventsCommand({ logGroupName: this.options.logGroupName, logStreamName: stream, logEvents }));
    try {
      try {
        await put();
      } catch (error) {
        if (errorName(error) !== 'ResourceNotFoundException') throw error;
        // The first note of a run creates its stream.
        await this.client
          .send(new CreateLogStreamCommand({ logGroupName: this.options.logGroupName, logStreamName: stream }))
          .catch((createError: unknown) => {
            if (errorName(createError) !== 'ResourceAlreadyExistsException') throw createError;
          });
        await put();
      }
    } catch (error) {
      throw retryableIfTransient(error, `writing to the log of run ${runId}`);
    }
  }

  /** Everything logged for the run so far, one line per event; empty when nothing was. */
  async read(runId: string): Promise<string> {
    const notes = await this.events(notesStream(runId));
    const buildId = await this.options.buildIdOf(runId);
    const build = buildId ? await this.events(buildStream(buildId)) : [];
    // Stable sort: at the same millisecond, cascade's notes come before the build's lines.
    const merged = [...notes, ...build].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
    return merged.map((event) => withNewline(event.message ?? '')).join('');
  }

  private async events(logStreamName: string): Promise<OutputLogEvent[]> {
    const events: OutputLogEvent[] = [];
    let token: string | undefined;
    let pages = 0;
    try {
      for (;;) {
        const page = await this.client.send(
          new GetLogEventsCommand({ logGroupName: this.options.logGroupName, logStreamName, startFromHead: true, nextToken: token }),
        );
        events.push(...(page.events ?? []));
        // Pages can be empty before the end; the end is when the forward token comes back unchanged.
        if (!page.nextForwardToken || page.nextForwardToken === token || pages++ >= MAX_PAGES) break;
        token = page.nextForwardToken;
      }
    } catch (error) {
      // No stream yet: the build has not started logging, or cascade never wrote a note.
      if (errorName(error) === 'ResourceNotFoundException') return events;
      throw retryableIfTransient(error, `reading the log stream ${logStreamName}`);
    }
    return events;
  }
}

function notesStream(runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new ValidationError(`run id "${runId}" must be letters, digits, _ and - (at most 128)`, 'runId');
  }
  return `cascade/${runId}`;
}

/** CodeBuild names a build's stream after the part of its id that follows the project name. */
export function buildStream(buildId: string): string {
  const uuid = buildId.slice(buildId.lastIndexOf(':') + 1);
  if (!uuid) throw new ValidationError(`"${buildId}" is not a CodeBuild build id`, 'buildId');
  return uuid;
}

function withNewline(message: string): string {
  return message.endsWith('\n') ? message : `${message}\n`;
}

function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + MAX_EVENT_CHARS, text.length);
    // Never split a surrogate pair between two events.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}
