// The functions' logger, made here and nowhere else: Powertools for AWS Lambda's Logger, one JSON
// object a line. injectLambdaContext (lib/aws/middleware.ts) puts the Lambda request id, the cold
// start flag and the function name on every line of an invocation.
//
// The level is POWERTOOLS_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT; INFO when
// unset). When the function's LoggingConfig sets an application log level (Lambda's advanced
// logging controls), Lambda passes it as AWS_LAMBDA_LOG_LEVEL and that one wins: Lambda would
// drop the lines below it anyway.
//
// The ids of the work a line is about (run id, delivery id) get there in one of two ways:
// - logger.appendKeys(...) for a whole invocation; the middleware drops them when it ends;
// - withLogKeys(keys, work) for one piece of work among several at once (the records of an SQS
//   batch, handled concurrently): an AsyncLocalStorage scope, so no record's lines carry another's.
import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

export type { Logger };

/** Keys that say which work a line is about. */
export type LogKeys = Record<string, string | number | undefined>;

const scope = new AsyncLocalStorage<LogKeys>();

/** Runs `work` with `keys` on every line logged until it settles, inside any scope already open. */
export function withLogKeys<T>(keys: LogKeys, work: () => T): T {
  return scope.run({ ...scope.getStore(), ...keys }, work);
}

/**
 * Powertools' key names, so its documented CloudWatch Logs Insights queries apply; then the keys of
 * the scope; then the line's own, which win.
 */
class ScopedLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const lambda = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: lambda?.coldStart,
        function_name: lambda?.functionName,
        function_request_id: lambda?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes({ ...scope.getStore(), ...additional });
  }
}

/** A logger as the functions use it; tests make their own to read what one invocation logs. */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'cascade', logFormatter: new ScopedLogFormatter() });
}

/** The one logger of a Lambda container: the cold start flag is per logger. */
export const logger = createLogger();

/** An error as a log key: Powertools writes an Error's name, message, location and stack. */
export function errorKey(error: unknown): { error: Error | string } {
  return { error: error instanceof Error ? error : String(error) };
}
