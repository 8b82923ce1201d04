// A multi-step task file, the subset of ACR Tasks' `acr-task.yaml` cascade runs: `build`, `cmd`
// and `push` steps, ordered by `when`, each with its own timeout, environment and ignoreErrors.
// The one grammar the task service (checks at `task create`), the build steps (both builders)
// and the analysis (the bases of every build step) read.
//
//   version: v1.1.0
//   steps:
//     - id: build
//       build: -t $Registry/hello:$ID -f Dockerfile .
//     - id: test
//       cmd: $Registry/hello:$ID node --version
//       env: [CI=true]
//     - push: [$Registry/hello:$ID]
//
// Template variables (`{{.Run.ID}}`, … and ACR's `$ID`, `$Registry`, …) are replaced in the text
// before it is parsed, as ACR does; a replacement never spans lines, so line numbers hold.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { ValidationError } from '../domain/errors';
import { renderTemplate, TEMPLATE_VARIABLES, type TemplateValues } from '../domain/templates';
import { parseImageReference } from '../images/reference';

/** A task file the grammar refuses; the message starts with `task file line N:` when a line is to blame. */
export class TaskFileError extends ValidationError {
  constructor(message: string, readonly line?: number) {
    super(line !== undefined ? `task file line ${line}: ${message}` : `task file: ${message}`, 'file');
  }
}

/** What ACR decides too: a `.yaml` or `.yml` file is a task file, anything else a Dockerfile. */
export function isTaskFile(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** ACR's default step timeout, seconds. */
export const DEFAULT_STEP_TIMEOUT = 600;

interface StepBase {
  id: string;
  /** Ids the step waits for; `[]` for "at the start" (`when: ["-"]`). */
  when: string[];
  /** Seconds. */
  timeout: number;
  /** `KEY=value`, the file's own `env` first. */
  env: string[];
  ignoreErrors: boolean;
  /** Where the step begins in the file. */
  line: number;
}

export interface BuildStep extends StepBase {
  kind: 'build';
  tags: string[];
  /** Relative to the task's context (the working directory, as docker reads `-f`); `CONTEXT/Dockerfile` by default. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  target?: string;
  /** Relative to the build context. */
  context: string;
}

export interface CmdStep extends StepBase {
  kind: 'cmd';
  image: string;
  args: string[];
  entryPoint?: string;
  workingDirectory?: string;
}

export interface PushStep extends StepBase {
  kind: 'push';
  images: string[];
}

export type TaskStep = BuildStep | CmdStep | PushStep;

export interface TaskFile {
  version?: string;
  steps: TaskStep[];
}

const TOP_KEYS = new Set(['version', 'env', 'stepTimeout', 'steps']);
const STEP_TYPES = ['build', 'cmd', 'push'] as const;
const STEP_KEYS = new Set(['id', 'when', 'timeout', 'env', 'ignoreErrors', 'entryPoint', 'workingDirectory']);
/** What only a `cmd` step takes. */
const CMD_ONLY = new Set(['entryPoint', 'workingDirectory']);
// Step types of ACR cascade does not run, named so the error says which is unsupported.
const OTHER_ACR_STEP_TYPES = new Set(['run']);

/** ACR's short aliases, as the cascade template variable each stands for. */
const ALIASES: Record<string, (typeof TEMPLATE_VARIABLES)[number]> = {
  ID: 'Run.ID',
  Registry: 'Run.Registry',
  Date: 'Run.Date',
  Commit: 'Run.Commit',
  Branch: 'Run.Branch',
};
const ALIAS = new RegExp(`\\$(${Object.keys(ALIASES).join('|')})(?![A-Za-z0-9_])`, 'g');
const PLACEHOLDER = /\{\{\s*\.?([^}]*?)\s*\}\}/g;

/** Values for checking a task file before any run: what a run's values look like. */
export function sampleValues(registry: string, taskName: string): TemplateValues {
  return {
    'Run.ID': 'da1',
    'Run.Registry': registry,
    'Run.Date': '20260101-000000z',
    'Run.TaskName': taskName,
    'Run.Commit': '0123456789abcdef0123456789abcdef01234567',
    'Run.Branch': 'main',
  };
}

/** The file's text with every template variable and alias replaced; an unknown `{{…}}` is an error on its line. */
export function renderTaskFile(text: string, values: TemplateValues): string {
  return text
    .split('\n')
    .map((line, i) => {
      for (const match of line.matchAll(PLACEHOLDER)) {
        const name = match[1] ?? '';
        if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
          throw new TaskFileError(`unknown template variable {{.${name.replace(/^\./, '')}}}; known: ${TEMPLATE_VARIABLES.map((v) => `{{.${v}}}`).join(', ')}, $ID, $Registry`, i + 1);
        }
      }
      return renderTemplate(line, values).replace(ALIAS, (_all, alias: string) => values[ALIASES[alias] as keyof TemplateValues] ?? '');
    })
    .join('\n');
}

/** Renders, parses and checks a task file: every refusal names its line. */
export function parseTaskFile(text: string, values: TemplateValues): TaskFile {
  const rendered = renderTaskFile(text, values);
  const lines = new LineCounter();
  const doc = parseDocument(rendered, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineOf = (node: { range?: [number, number, number] | null } | null | undefined): number | undefined =>
    node?.range ? lines.linePos(node.range[0]).line : undefined;
  const [syntax] = doc.errors;
  if (syntax) throw new TaskFileError(syntax.message.split('\n')[0] ?? 'not valid YAML', lines.linePos(syntax.pos[0]).line);

  const root = doc.contents;
  if (!isMap(root)) throw new TaskFileError('the file must be a map with a "steps" list', lineOf(root as Node | null) ?? 1);
  let version: string | undefined;
  let fileEnv: string[] = [];
  let stepTimeout = DEFAULT_STEP_TIMEOUT;
  let stepsNode: Node | undefined;
  for (const pair of root.items) {
    const key = keyName(pair, lineOf);
    const line = lineOf(pair.key as Node);
    if (!TOP_KEYS.has(key)) throw new TaskFileError(`unknown key "${key}"; a task file has ${[...TOP_KEYS].join(', ')}`, line);
    const value = pair.value as Node | null;
    if (key === 'version') version = scalarText(value, 'version', line, lineOf);
    else if (key === 'env') fileEnv = envList(value, line, lineOf);
    else if (key === 'stepTimeout') stepTimeout = seconds(value, 'stepTimeout', line, lineOf);
    else stepsNode = value ?? undefined;
  }
  if (!isSeq(stepsNode) || stepsNode.items.length === 0) throw new TaskFileError('"steps" must be a list of at least one step', lineOf(stepsNode) ?? 1);

  const steps: TaskStep[] = stepsNode.items.map((item, index) =>
    readStep(item as Node, index, { fileEnv, stepTimeout, lineOf }),
  );
  checkIds(steps);
  checkPushes(steps);
  return { ...(version !== undefined && { version }), steps };
}

type LineOf = (node: { range?: [number, number, number] | null } | null | undefined) => number | undefined;

function keyName(pair: Pair, lineOf: LineOf): string {
  const key = pair.key as Node | null;
  if (!isScalar(key) || typeof key.value !== 'string') throw new TaskFileError('keys must be plain names', lineOf(key));
  return key.value;
}

function scalarText(node: Node | null, what: string, line: number | undefined, lineOf: LineOf): string {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
    throw new TaskFileError(`"${what}" must be a single value`, lineOf(node) ?? line);
  }
  return String(node.value);
}

function stringList(node: Node | null, what: string, line: number | undefined, lineOf: LineOf): string[] {
  if (isScalar(node)) return [scalarText(node, what, line, lineOf)];
  if (!isSeq(node)) throw new TaskFileError(`"${what}" must be a list`, lineOf(node) ?? line);
  return node.items.map((item) => scalarText(item as Node, what, lineOf(item as Node) ?? line, lineOf));
}

function envList(node: Node | null, line: number | undefined, lineOf: LineOf): string[] {
  const list = isSeq(node) ? node : undefined;
  const entries = stringList(node, 'env', line, lineOf);
  entries.forEach((entry, i) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(entry)) {
      throw new TaskFileError(`env entry "${entry}" must be KEY=value`, lineOf(list?.items[i] as Node | undefined) ?? line);
    }
  });
  return entries;
}

function seconds(node: Node | null, what: string, line: number | undefined, lineOf: LineOf): number {
  const value = isScalar(node) ? Number(node.value) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > 28_800) {
    throw new TaskFileError(`"${what}" must be a whole number of seconds from 1 to 28800`, lineOf(node) ?? line);
  }
  return value;
}

function readStep(node: Node, index: number, file: { fileEnv: string[]; stepTimeout: number; lineOf: LineOf }): TaskStep {
  const { lineOf } = file;
  const line = lineOf(node) ?? 1;
  if (!isMap(node)) throw new TaskFileError('a step must be a map with one of build, cmd or push', line);
  const map = node as YAMLMap;
  const types = map.items.filter((pair) => (STEP_TYPES as readonly string[]).includes(keyName(pair, lineOf)));
  if (types.length !== 1) {
    const unknownType = map.items.find((pair) => OTHER_ACR_STEP_TYPES.has(keyName(pair, lineOf)) || (types.length === 0 && !STEP_KEYS.has(keyName(pair, lineOf))));
    if (unknownType) throw new TaskFileError(`unknown step type "${keyName(unknownType, lineOf)}"; cascade runs build, cmd and push steps`, lineOf(unknownType.key as Node));
    throw new TaskFileError(types.length === 0 ? 'unknown step type: a step has one of build, cmd or push' : 'a step has only one of build, cmd or push', line);
  }
  const typePair = types[0] as Pair;
  const kind = keyName(typePair, lineOf) as TaskStep['kind'];
  const base: StepBase = { id: `acb_step_${index}`, when: [], timeout: file.stepTimeout, env: [...file.fileEnv], ignoreErrors: false, line };
  let whenGiven = false;
  const cmdOptions: { entryPoint?: string; workingDirectory?: string } = {};
  for (const pair of map.items) {
    if (pair === typePair) continue;
    const key = keyName(pair, lineOf);
    const keyLine = lineOf(pair.key as Node);
    const value = pair.value as Node | null;
    if (!STEP_KEYS.has(key) || (CMD_ONLY.has(key) && kind !== 'cmd')) {
      const known = [...STEP_KEYS].filter((k) => kind === 'cmd' || !CMD_ONLY.has(k));
      throw new TaskFileError(`unknown key "${key}" in a ${kind} step; a ${kind} step has ${known.join(', ')}`, keyLine);
    }
    switch (key) {
      case 'id': {
        const id = scalarText(value, 'id', keyLine, lineOf);
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id) || id === '-') throw new TaskFileError(`step id "${id}" must be letters, digits, "_", "." or "-"`, keyLine);
        base.id = id;
        break;
      }
      case 'when':
        base.when = stringList(value, 'when', keyLine, lineOf);
        whenGiven = true;
        if (base.when.includes('-') && base.when.length > 1) throw new TaskFileError('"when" is either ["-"] or the ids of the steps to wait for', keyLine);
        if (base.when.includes('-')) base.when = [];
        break;
      case 'timeout':
        base.timeout = seconds(value, 'timeout', keyLine, lineOf);
        break;
      case 'env':
        base.env.push(...envList(value, keyLine, lineOf));
        break;
      case 'ignoreErrors':
        if (!isScalar(value) || typeof value.value !== 'boolean') throw new TaskFileError('"ignoreErrors" must be true or false', keyLine);
        base.ignoreErrors = value.value;
        break;
      default:
        cmdOptions[key as 'entryPoint' | 'workingDirectory'] = scalarText(value, key, keyLine, lineOf);
    }
  }
  // Without `when`, a step waits for the one before it (ACR's order).
  const ordered = { ...base, ...(whenGiven ? {} : { when: index === 0 ? [] : [PREVIOUS] }) };
  const value = typePair.value as Node | null;
  const valueLine = lineOf(value) ?? lineOf(typePair.key as Node) ?? line;
  if (kind === 'push') {
    const images = stringList(value, 'push', valueLine, lineOf);
    if (images.length === 0) throw new TaskFileError('a push step names at least one image', valueLine);
    images.forEach((image) => checkReference(image, valueLine));
    return { ...ordered, kind, images };
  }
  const words = splitWords(scalarText(value, kind, valueLine, lineOf), valueLine);
  if (kind === 'cmd') {
    const [image, ...args] = words;
    if (image === undefined) throw new TaskFileError('a cmd step names the image to run', valueLine);
    checkReference(image, valueLine);
    return { ...ordered, kind, image, args, ...cmdOptions };
  }
  return { ...ordered, kind, ...buildArgs(words, valueLine) };
}

/** Stands for "the step before" until the ids are known. */
const PREVIOUS = '\u0000previous';

function buildArgs(words: string[], line: number): Omit<BuildStep, keyof StepBase | 'kind'> {
  const tags: string[] = [];
  const buildArgValues: Record<string, string> = {};
  let dockerfile: string | undefined;
  let target: string | undefined;
  const contexts: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const takeValue = (): string => {
      if (eq > 0) return word.slice(eq + 1);
      const next = words[++i];
      if (next === undefined) throw new TaskFileError(`${flag} needs a value`, line);
      return next;
    };
    switch (flag) {
      case '-t':
      case '--tag': {
        const tag = takeValue();
        checkReference(tag, line);
        tags.push(tag);
        break;
      }
      case '-f':
      case '--file':
        dockerfile = takeValue();
        break;
      case '--build-arg': {
        const arg = takeValue();
        const at = arg.indexOf('=');
        if (at <= 0) throw new TaskFileError(`--build-arg "${arg}" must be KEY=VALUE`, line);
        buildArgValues[arg.slice(0, at)] = arg.slice(at + 1);
        break;
      }
      case '--target':
        target = takeValue();
        break;
      default:
        if (word.startsWith('-')) throw new TaskFileError(`unknown build option "${flag}"; a build step takes -t, -f, --build-arg and --target`, line);
        contexts.push(word);
    }
  }
  if (contexts.length > 1) throw new TaskFileError(`a build step has one context folder, not ${contexts.join(' and ')}`, line);
  if (tags.length === 0) throw new TaskFileError('a build step names its image with -t', line);
  const context = contexts[0] ?? '.';
  if (/^[a-z]+:\/\//i.test(context) || context.startsWith('/') || context.split('/').includes('..')) {
    throw new TaskFileError(`the build context "${context}" must be a folder inside the task's context`, line);
  }
  if (dockerfile !== undefined && (dockerfile.startsWith('/') || dockerfile.split('/').includes('..'))) {
    throw new TaskFileError(`the Dockerfile "${dockerfile}" must be inside the task's context`, line);
  }
  const file = cleanPath(dockerfile ?? `${context}/Dockerfile`);
  return { tags, dockerfile: file, buildArgs: buildArgValues, ...(target !== undefined && { target }), context };
}

function checkReference(reference: string, line: number): void {
  try {
    parseImageReference(reference);
  } catch (err) {
    throw new TaskFileError((err as Error).message, line);
  }
}

/** Ids unique, `when` naming known steps, and no cycle; "the step before" made explicit. */
function checkIds(steps: TaskStep[]): void {
  const byId = new Map<string, TaskStep>();
  for (const step of steps) {
    if (byId.has(step.id)) throw new TaskFileError(`step id "${step.id}" is used twice`, step.line);
    byId.set(step.id, step);
  }
  steps.forEach((step, i) => {
    if (step.when[0] === PREVIOUS) step.when = [steps[i - 1]?.id as string];
    for (const id of step.when) {
      if (!byId.has(id)) throw new TaskFileError(`"when" names "${id}", which is no step's id`, step.line);
      if (id === step.id) throw new TaskFileError(`step "${id}" waits for itself`, step.line);
    }
  });
  // Depth-first: a step met again while its own waits are followed is in a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (step: TaskStep, path: string[]): void => {
    if (state.get(step.id) === 'done') return;
    if (state.get(step.id) === 'open') {
      const cycle = [...path.slice(path.indexOf(step.id)), step.id];
      throw new TaskFileError(`"when" makes a cycle: ${cycle.join(' → ')}`, step.line);
    }
    state.set(step.id, 'open');
    for (const id of step.when) visit(byId.get(id) as TaskStep, [...path, step.id]);
    state.set(step.id, 'done');
  };
  for (const step of steps) visit(step, []);
}

/** A push names only images a build step of the file builds. */
function checkPushes(steps: TaskStep[]): void {
  const built = new Set(steps.flatMap((step) => (step.kind === 'build' ? step.tags.map(referenceKey) : [])));
  for (const step of steps) {
    if (step.kind !== 'push') continue;
    for (const image of step.images) {
      if (!built.has(referenceKey(image))) throw new TaskFileError(`push of ${image}, which no build step builds (-t)`, step.line);
    }
  }
}

/** The same image however it is written (`docker.io/library/x:latest` and `x`). */
export function referenceKey(reference: string): string {
  const ref = parseImageReference(reference);
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Shell-like words: spaces split, quotes group and are removed, a backslash escapes. */
export function splitWords(text: string, line: number): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new TaskFileError(`unterminated ${quote} quote`, line);
  if (inWord) words.push(word);
  return words;
}

/** The steps in an order that respects `when` (the file's order where it leaves a choice). */
export function stepOrder(file: TaskFile): TaskStep[] {
  const done = new Set<string>();
  const order: TaskStep[] = [];
  while (order.length < file.steps.length) {
    const next = file.steps.find((step) => !done.has(step.id) && step.when.every((id) => done.has(id)));
    if (!next) break; // not reached: parseTaskFile refuses cycles
    done.add(next.id);
    order.push(next);
  }
  return order;
}

// Each variable as a marker valid in a repository path and in a tag, so a push's reference parses
// and its variables can be put back afterwards.
const marker = (i: number) => `x0taskfile0var${i}0x`;
const MARKER = /x0taskfile0var(\d+)0x/g;

/**
 * The images the file's push steps push to `registry`, as image templates relative to it
 * (`app:{{.Run.ID}}`): what the task pushes, known before any run. Pushes elsewhere are left out.
 */
export function pushTemplates(text: string, registry: string, taskName: string): string[] {
  const markers: TemplateValues = Object.fromEntries(TEMPLATE_VARIABLES.map((name, i) => [name, marker(i)]));
  const file = parseTaskFile(text, { ...markers, 'Run.Registry': registry, 'Run.TaskName': taskName });
  const prefix = `${registry}/`;
  const templates = file.steps
    .flatMap((step) => (step.kind === 'push' ? step.images : []))
    .filter((image) => image.startsWith(prefix))
    .map((image) => image.slice(prefix.length).replace(MARKER, (_all, i: string) => `{{.${TEMPLATE_VARIABLES[Number(i)] ?? ''}}}`));
  return [...new Set(templates)];
}

/** `./a/./b/` → `a/b`. */
function cleanPath(path: string): string {
  return path.split('/').filter((part) => part !== '' && part !== '.').join('/') || '.';
}
