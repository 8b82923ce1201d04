// Image name templates in the style of ACR Tasks: `helloworld:{{.Run.ID}}`.
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
