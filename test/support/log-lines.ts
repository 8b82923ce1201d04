// The JSON lines the functions' logger writes during a test. Under jest it writes through the
// global console (POWERTOOLS_DEV, set in test/log-capture.cjs); the lines still go to the capture
// file the secret scan reads, but stay off the terminal whatever their level.
export type LogLine = Record<string, unknown> & { level: string; message: string };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'log'] as const;

export interface LogLines {
  /** Every logger line so far, in order. */
  all(): LogLine[];
  /** The lines of one invocation, by its Lambda request id. */
  of(requestId: string): LogLine[];
  restore(): void;
}

export function readLogLines(): LogLines {
  const lines: LogLine[] = [];
  // log-capture.cjs's console.log: into the capture file, not onto the terminal.
  const quietly = console.log.bind(console);
  const spies = LEVELS.map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      quietly(...args);
      const line = parse(args[0]);
      if (line) lines.push(line);
    }),
  );
  return {
    all: () => [...lines],
    of: (requestId) => lines.filter((line) => line.function_request_id === requestId),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

function parse(text: unknown): LogLine | undefined {
  if (typeof text !== 'string' || !text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as LogLine;
    return typeof value.level === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
