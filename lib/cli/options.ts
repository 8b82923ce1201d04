// Value parsers for commander options. Each throws a UsageError that says what to type instead,
// so a bad flag ends the command before anything is sent.
import { UsageError } from './errors';

/** `--image a --image b` → `['a', 'b']`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--arg K=V` (repeatable; the value may hold `=`). The value is never echoed: it may be a secret. */
export function keyValue(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new UsageError(`--arg takes KEY=VALUE, such as --arg REGISTRY_NAME=base.example.com; write the name, "=", then the value`);
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function positiveInteger(flag: string, example: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      throw new UsageError(`${flag} takes a positive whole number, such as ${flag} ${example}`);
    }
    return Number(value);
  };
}

export function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new UsageError('--port takes a port number from 0 to 65535, such as --port 3000 (0 picks a free one)');
  }
  return Number(value);
}

export function boolean(flag: string): (value: string) => boolean {
  return (value) => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new UsageError(`${flag} takes true or false, such as ${flag} false`);
  };
}

/** Case-insensitive, as `az` is; returns the canonical spelling the API expects. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    const found = choices.find((choice) => choice.toLowerCase() === value.toLowerCase());
    if (found === undefined) {
      throw new UsageError(`${flag} takes one of ${choices.join(', ')}, such as ${flag} ${choices[0] ?? ''}`.trimEnd());
    }
    return found;
  };
}
