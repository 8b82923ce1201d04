// Image name templates in the style of ACR Tasks: `helloworld:{{.Run.ID}}`: checking, rendering,
// and matching a reference against what a template can render.
import { baseKey, DEFAULT_TAG, parseImageReference } from '../images/reference';
import { UnknownTemplateVariableError, ValidationError } from './errors';

export const TEMPLATE_VARIABLES = ['Run.ID', 'Run.Registry', 'Run.Date', 'Run.TaskName', 'Run.Commit', 'Run.Branch'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Partial<Record<TemplateVariable, string>>;

const PLACEHOLDER = /\{\{\s*\.?([^}]*?)\s*\}\}/g;

/** Throws when a template names a variable cascade does not know, so mistakes surface at task creation. */
export function validateTemplate(template: string): void {
  if (template.includes('{{') !== template.includes('}}') || /\{\{(?![^}]*\}\})/.test(template)) {
    throw new ValidationError(`unbalanced "{{" in image template "${template}"`, 'image');
  }
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
      throw new UnknownTemplateVariableError(`.${name}`, template);
    }
  }
}

/** Renders a validated template. A variable with no value (a manual run has no commit) renders empty. */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => values[name as TemplateVariable] ?? '');
}

/** `{{.Run.Date}}` as ACR renders it: UTC, `YYYYMMDD-HHMMSSz`. */
export function runDate(at: Date): string {
  const iso = at.toISOString(); // 2026-11-28T04:41:11.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}z`;
}

// ---------------------------------------------------------------------------------------------
// Which references a template can render: the images a task may push

/** A tag reference split as matching needs it. */
export interface RefParts {
  /** `registry/repository`. */
  name: string;
  tag: string;
}

export interface TemplateMatcher {
  /** The template fully qualified, for people: `reg/app:{{.Run.ID}}`. */
  text: string;
  /** Undefined when the template cannot name an image (cascade could never push it). */
  name?: RegExp;
  tag?: RegExp;
  /** The tag part holds a variable. */
  variableTag?: boolean;
}

// A variable is rendered as a marker that is valid both in a path and in a tag, so that the
// reference grammar (registry normalisation, docker.io/library, implied `latest`) applies to
// the template as it does to every other reference; the markers then become wildcards.
const marker = (i: number) => `x0cascade0var${i}0x`;
const MARKERS: TemplateValues = Object.fromEntries(TEMPLATE_VARIABLES.map((name, i) => [name, marker(i)]));
const ANY_MARKER = /x0cascade0var(\d+)0x/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Literal parts exactly, each variable any non-empty text. */
function partPattern(part: string): RegExp {
  const literals = part.split(ANY_MARKER).filter((_piece, i) => i % 2 === 0);
  return new RegExp(`^${literals.map(escapeRegExp).join('.+')}$`);
}

function withVariableNames(text: string): string {
  return text.replace(ANY_MARKER, (_all, i: string) => `{{.${TEMPLATE_VARIABLES[Number(i)] ?? ''}}}`);
}

/** What a task image `template`, pushed to `registry`, can render. */
export function templateMatcher(registry: string, template: string): TemplateMatcher {
  const raw = `${registry}/${template}`;
  let ref;
  try {
    ref = parseImageReference(`${registry}/${renderTemplate(template, MARKERS)}`);
  } catch {
    return { text: raw }; // not a reference whatever the variables hold: it pushes nothing
  }
  if (ref.tag === undefined) return { text: raw }; // a digest is pulled, never pushed
  const name = `${ref.registry}/${ref.repository}`;
  return {
    text: withVariableNames(baseKey(ref)),
    name: partPattern(name),
    tag: partPattern(ref.tag),
    variableTag: withVariableNames(ref.tag) !== ref.tag,
  };
}

/** Whether the template can render a reference to `ref`'s repository, whatever the tag. */
export function matchesRepository(m: TemplateMatcher, ref: RefParts): boolean {
  return m.name !== undefined && m.name.test(ref.name);
}

/** Whether the template can render `ref`, tag included. */
export function matchesRef(m: TemplateMatcher, ref: RefParts): boolean {
  if (!matchesRepository(m, ref) || m.tag === undefined) return false;
  // `latest` is the tag moved on purpose; a run's variables (an id `da<N>`, a date, a commit)
  // never render to it, so only a literal `latest` (or no tag) claims it.
  if (ref.tag === DEFAULT_TAG && m.variableTag) return false;
  return m.tag.test(ref.tag);
}
