// The registry-events function: Amazon ECR's "ECR Image Action" events from an EventBridge rule,
// the app account's own pushes and those a base account forwards to this account's bus
// (infra/base-registry-pull-role.yml). EventBridge vouches for the event, so there is no
// signature; the events are deduplicated and queued like a webhook's.
//
//   serverless invoke local -f registryEvents -p test/fixtures/events/registryEvents.json
import middy from '@middy/core';
import { awsCascade, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';
import type { IntakeResult } from '../lib/domain/event-intake';
import { ValidationError } from '../lib/domain/errors';
import { normalizeEcrEvent } from '../lib/events';

/** The route deliveries are remembered under: EventBridge's event id is unique per event. */
export const EVENTBRIDGE_ROUTE = 'eventbridge';

export function createRegistryEventsHandler(cascade: Cascade) {
  return async (event: unknown): Promise<IntakeResult> => {
    let normalized;
    try {
      normalized = normalizeEcrEvent(event);
    } catch (error) {
      // Retrying an event that cannot be read would fail the same way: say why and drop it.
      if (!(error instanceof ValidationError)) throw error;
      console.warn(JSON.stringify({ level: 'warn', message: 'registry event ignored', reason: error.message }));
      return { accepted: 0, ignored: [{ reason: error.message }] };
    }
    // A failure to queue is thrown, so that Lambda retries the asynchronous invocation.
    const result = await cascade.intake.accept(EVENTBRIDGE_ROUTE, normalized);
    console.log(JSON.stringify({ level: 'info', message: 'registry event', ...result }));
    return result;
  };
}

const registryEvents = lazy(() => createRegistryEventsHandler(awsCascade()));

export const handler = middy<unknown, IntakeResult>().handler((event) => registryEvents()(event));
