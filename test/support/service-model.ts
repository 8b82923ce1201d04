// An AWS service's request constraints, read from the botocore model the machine's Python has
// (`botocore/data/<service>/<version>/service-2.json.gz`), and a walker that checks a JSON-protocol
// request against them: required and unknown members, types, enums, lengths, ranges, patterns.
// botocore's own ParamValidator skips enums and patterns, which is where cascade's requests can
// go wrong, so the walk is done here. It is generic: any botocore model, any operation.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TOOLS_VENV } from './python-tools';

/** One shape of a botocore model, as far as constraints go. */
export interface ModelShape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'blob' | 'document';
  required?: string[];
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  union?: boolean;
  exception?: boolean;
  timestampFormat?: 'iso8601' | 'unixTimestamp' | 'rfc822';
  error?: { httpStatusCode?: number; code?: string };
}

export interface ServiceModel {
  metadata: { targetPrefix?: string; jsonVersion?: string; protocol?: string; serviceId?: string; timestampFormat?: string };
  operations: Record<string, { input?: { shape: string }; output?: { shape: string }; errors?: Array<{ shape: string }> }>;
  shapes: Record<string, ModelShape>;
}

export type ConstraintRule = 'required' | 'unknown' | 'type' | 'enum' | 'length' | 'range' | 'pattern' | 'union' | 'uncheckable-pattern';

export interface ConstraintViolation {
  /** Where, as AWS names it: `environmentVariablesOverride.1.member.type` (lists count from 1). */
  path: string;
  rule: ConstraintRule;
  /** AWS's wording: `Value 'X' at 'path' failed to satisfy constraint: Member must …`. */
  message: string;
}

export interface UncompilablePattern {
  shape: string;
  pattern: string;
  error: string;
}

let dataDir: string | undefined;

/** botocore's data folder, asked of the machine's python3 once. */
export function botocoreDataDir(): string {
  if (dataDir) return dataDir;
  const fromEnv = process.env.BOTOCORE_DATA_DIR;
  if (fromEnv) return (dataDir = fromEnv);
  // The Python that has moto (and so botocore): the machine's, or the one scripts/setup.sh made.
  const pythons = [join(TOOLS_VENV, 'bin', 'python3'), 'python3'].filter((p) => p === 'python3' || existsSync(p));
  for (const python of pythons) {
    try {
      const root = execFileSync(python, ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return (dataDir = join(root, 'data'));
    } catch {
      // not this one
    }
  }
  throw new Error('botocore is not installed: run "bash scripts/setup.sh", which installs moto (and botocore) with pip');
}

/** A service's model (`codebuild`), the newest version botocore has unless one is named. */
export function loadBotocoreModel(service: string, version?: string): ServiceModel {
  const folder = join(botocoreDataDir(), service);
  const chosen = version ?? readdirSync(folder).filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v)).sort().at(-1);
  if (!chosen) throw new Error(`botocore has no model of ${service} in ${folder}`);
  const gz = join(folder, chosen, 'service-2.json.gz');
  const text = existsSync(gz) ? gunzipSync(readFileSync(gz)).toString('utf8') : readFileSync(join(folder, chosen, 'service-2.json'), 'utf8');
  return JSON.parse(text) as ServiceModel;
}

/** What an answer is held to: its shape, not the constraints that bind requests. */
const SHAPE_RULES: ConstraintRule[] = ['unknown', 'type', 'enum', 'union'];

const UNICODE_ONLY = /\\[pPu]\{|\\k</;

/**
 * Smithy patterns are ECMA-262 and not anchored: a value satisfies one when the pattern matches
 * anywhere in it (RegExp.test). Unicode mode first (`\p{L}` needs it); a pattern that only
 * plain mode accepts, and has nothing whose meaning differs between the two, compiles there.
 */
function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch (unicodeError) {
    if (UNICODE_ONLY.test(pattern)) throw unicodeError;
    return new RegExp(pattern);
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `'${value.length > 200 ? `${value.slice(0, 200)}…` : value}'`;
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  return `'${String(value)}'`;
}

export class ServiceModelValidator {
  /** Patterns of the model that JavaScript cannot compile: every value under them is refused, unchecked. */
  readonly uncompilablePatterns: UncompilablePattern[] = [];
  private readonly patterns = new Map<string, RegExp>();

  constructor(readonly model: ServiceModel) {
    for (const [name, shape] of Object.entries(model.shapes)) {
      if (shape.pattern === undefined) continue;
      try {
        this.patterns.set(name, compilePattern(shape.pattern));
      } catch (error) {
        this.uncompilablePatterns.push({ shape: name, pattern: shape.pattern, error: (error as Error).message });
      }
    }
  }

  /** The operation's input shape name; throws for an operation the model does not have. */
  inputShapeOf(operation: string): string | undefined {
    const op = this.model.operations[operation];
    if (!op) throw new Error(`the model has no operation ${operation}`);
    return op.input?.shape;
  }

  /** Every constraint of `operation`'s input that `input` (the parsed JSON body) breaks. */
  validateInput(operation: string, input: unknown): ConstraintViolation[] {
    const shape = this.inputShapeOf(operation);
    if (!shape) return input === undefined || (typeof input === 'object' && input !== null && Object.keys(input).length === 0) ? [] : [{ path: '', rule: 'unknown', message: `${operation} takes no input` }];
    const violations: ConstraintViolation[] = [];
    this.walk(shape, input ?? {}, '', violations);
    return violations;
  }

  /**
   * Every constraint of the shape named `shapeName` that `value` breaks, `path` naming where it is.
   * `answer`: the value is a service's answer, held to its shape only (members, types, enums):
   * services answer with lists emptier than their request constraints allow (`buildsNotFound: []`).
   */
  validateShape(shapeName: string, value: unknown, options: { path?: string; answer?: boolean } = {}): ConstraintViolation[] {
    const violations: ConstraintViolation[] = [];
    this.walk(shapeName, value, options.path ?? '', violations, options.answer ?? false);
    return violations;
  }

  private walk(shapeName: string, value: unknown, path: string, all: ConstraintViolation[], answer = false): void {
    const shape = this.model.shapes[shapeName];
    if (!shape) throw new Error(`the model has no shape ${shapeName}`);
    const out = answer ? { push: (v: ConstraintViolation) => (SHAPE_RULES.includes(v.rule) ? all.push(v) : 0) } : all;
    const fail = (rule: ConstraintRule, constraint: string): void => {
      out.push({ path, rule, message: `Value ${describeValue(value)} at '${path}' failed to satisfy constraint: ${constraint}` });
    };
    const at = (child: string) => (path === '' ? child : `${path}.${child}`);

    switch (shape.type) {
      case 'structure': {
        if (!isPlainObject(value)) return fail('type', `Member must be a structure (${shapeName})`);
        const members = shape.members ?? {};
        for (const name of shape.required ?? []) {
          // The JSON protocols treat a null member as absent.
          if (value[name] === undefined || value[name] === null) {
            out.push({ path: at(name), rule: 'required', message: `Value null at '${at(name)}' failed to satisfy constraint: Member must not be null` });
          }
        }
        let set = 0;
        for (const [name, child] of Object.entries(value)) {
          const member = members[name];
          if (!member) {
            out.push({ path: at(name), rule: 'unknown', message: `'${at(name)}' is not a member of ${shapeName} (members: ${Object.keys(members).join(', ') || 'none'})` });
            continue;
          }
          if (child === null || child === undefined) continue;
          set += 1;
          this.walk(member.shape, child, at(name), all, answer);
        }
        if (shape.union && set !== 1) fail('union', `Member must have exactly one of ${Object.keys(members).join(', ')} set, not ${set}`);
        return;
      }
      case 'list': {
        if (!Array.isArray(value)) return fail('type', `Member must be a list (${shapeName})`);
        this.size(shape, value.length, fail);
        value.forEach((item, i) => {
          const itemPath = at(`${i + 1}.member`);
          if (item === null || item === undefined) {
            out.push({ path: itemPath, rule: 'type', message: `Value null at '${itemPath}' failed to satisfy constraint: Member must not be null` });
          } else this.walk(shape.member!.shape, item, itemPath, all, answer);
        });
        return;
      }
      case 'map': {
        if (!isPlainObject(value)) return fail('type', `Member must be a map (${shapeName})`);
        const entries = Object.entries(value);
        this.size(shape, entries.length, fail);
        for (const [key, item] of entries) {
          this.walk(shape.key!.shape, key, at(`${key}.key`), all, answer);
          if (item === null || item === undefined) out.push({ path: at(key), rule: 'type', message: `Value null at '${at(key)}' failed to satisfy constraint: Map value must not be null` });
          else this.walk(shape.value!.shape, item, at(key), all, answer);
        }
        return;
      }
      case 'string': {
        if (typeof value !== 'string') return fail('type', 'Member must be a string');
        if (shape.enum && !shape.enum.includes(value)) fail('enum', `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
        // Smithy counts a string's length in Unicode scalar values.
        this.size(shape, [...value].length, fail);
        this.pattern(shapeName, shape, value, fail);
        return;
      }
      case 'integer':
      case 'long':
        if (typeof value !== 'number' || !Number.isInteger(value)) return fail('type', `Member must be an ${shape.type === 'long' ? 'integer (long)' : 'integer'}`);
        if (shape.type === 'integer' && (value < -(2 ** 31) || value > 2 ** 31 - 1)) fail('range', 'Member must fit in 32 bits');
        this.range(shape, value, fail);
        return;
      case 'float':
      case 'double':
        // The JSON protocols write the non-finite values as strings.
        if (typeof value === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(value)) return;
        if (typeof value !== 'number') return fail('type', 'Member must be a number');
        this.range(shape, value, fail);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') fail('type', 'Member must be a boolean');
        return;
      case 'timestamp': {
        const format = shape.timestampFormat ?? this.model.metadata.timestampFormat ?? 'unixTimestamp';
        if (format === 'unixTimestamp' ? typeof value !== 'number' || !Number.isFinite(value) : typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
          fail('type', `Member must be a timestamp (${format === 'unixTimestamp' ? 'epoch seconds' : format})`);
        }
        return;
      }
      case 'blob':
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return fail('type', 'Member must be base64-encoded bytes');
        this.size(shape, Buffer.from(value, 'base64').length, fail);
        return;
      case 'document':
        return;
      default:
        throw new Error(`shape ${shapeName} has a type the walker does not know: ${String((shape as { type: unknown }).type)}`);
    }
  }

  private size(shape: ModelShape, size: number, fail: (rule: ConstraintRule, constraint: string) => void): void {
    if (shape.min !== undefined && size < shape.min) fail('length', `Member must have length greater than or equal to ${shape.min}`);
    if (shape.max !== undefined && size > shape.max) fail('length', `Member must have length less than or equal to ${shape.max}`);
  }

  private range(shape: ModelShape, value: number, fail: (rule: ConstraintRule, constraint: string) => void): void {
    if (shape.min !== undefined && value < shape.min) fail('range', `Member must have value greater than or equal to ${shape.min}`);
    if (shape.max !== undefined && value > shape.max) fail('range', `Member must have value less than or equal to ${shape.max}`);
  }

  private pattern(shapeName: string, shape: ModelShape, value: string, fail: (rule: ConstraintRule, constraint: string) => void): void {
    if (shape.pattern === undefined) return;
    const regex = this.patterns.get(shapeName);
    // Refused, not passed: a check that cannot run must not look like one that passed.
    if (!regex) return fail('uncheckable-pattern', `Member must satisfy regular expression pattern: ${shape.pattern} (which JavaScript cannot compile, so it was not checked)`);
    if (!regex.test(value)) fail('pattern', `Member must satisfy regular expression pattern: ${shape.pattern}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `1 validation error detected: …; …`, as AWS words a refused request. */
export function validationMessage(violations: ConstraintViolation[]): string {
  const n = violations.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.map((v) => v.message).join('; ')}`;
}
