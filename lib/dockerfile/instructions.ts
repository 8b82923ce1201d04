// Splits a Dockerfile into instructions the way BuildKit's parser does: parser directives,
// comments, line continuations and heredoc bodies are consumed here so that nothing inside
// them can be mistaken for an instruction.
import { DockerfileError } from '../domain/errors';

export type EscapeToken = '\\' | '`';

export interface Instruction {
  /** Upper-cased keyword: `FROM`, `ARG`, `RUN`, … */
  keyword: string;
  /** Everything after the keyword, continuations joined, leading whitespace removed. */
  rest: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface ParsedDockerfile {
  escape: EscapeToken;
  instructions: Instruction[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);

function isComment(line: string): boolean {
  return line.trimStart().startsWith('#');
}

function continuationPattern(escape: EscapeToken): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  // An escape token that is itself escaped ("\\" at the end) does not continue the line.
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Splits on whitespace outside quotes, keeping quotes and escapes as written. */
export function splitRawWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quote === undefined && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    word += ch;
    if (ch === '\\' && quote !== "'" && i + 1 < line.length) {
      word += line.charAt(++i);
    } else if (quote === undefined && (ch === '"' || ch === "'")) {
      quote = ch;
    } else if (ch === quote) {
      quote = undefined;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Removes shell quoting from a heredoc delimiter word: `'EOF'`, `"EOF"`, `E"O"F` → `EOF`. */
function unquote(word: string): string {
  let out = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < word.length; i++) {
    const ch = word.charAt(i);
    if (quote === undefined && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = undefined;
    else if (ch === '\\' && quote !== "'" && i + 1 < word.length) out += word.charAt(++i);
    else out += ch;
  }
  return out;
}

interface Heredoc {
  name: string;
  chomp: boolean;
}

function heredocsIn(keyword: string, rest: string): Heredoc[] {
  let words = splitRawWords(rest);
  if (keyword === 'ONBUILD') {
    if (!HEREDOC_INSTRUCTIONS.has((words[0] ?? '').toUpperCase())) return [];
    words = words.slice(1);
  } else if (!HEREDOC_INSTRUCTIONS.has(keyword)) {
    return [];
  }
  // The exec (JSON) form runs no shell, so "<<" in it is a plain argument.
  const args = words.filter((w) => !w.startsWith('--'));
  if (args[0]?.startsWith('[') && isJsonStringArray(rest.slice(rest.indexOf(args[0])))) return [];
  const docs: Heredoc[] = [];
  for (const word of words) {
    const m = HEREDOC_WORD.exec(word);
    const name = m?.[3] ? unquote(m[3]) : '';
    if (m && name !== '') docs.push({ name, chomp: m[2] === '-' });
  }
  return docs;
}

function isJsonStringArray(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/[\r\n]+$/, ''));
  let escape: EscapeToken = '\\';
  let continuation = continuationPattern(escape);
  let lookingForDirectives = true;
  const seenDirectives = new Set<string>();
  const instructions: Instruction[] = [];

  // Parser directives only count before any comment, blank line or instruction.
  const directive = (line: string, lineNo: number): void => {
    if (!lookingForDirectives) return;
    const m = DIRECTIVE.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !KNOWN_DIRECTIVES.has(key)) {
      lookingForDirectives = false;
      return;
    }
    if (seenDirectives.has(key)) throw new DockerfileError(`Dockerfile line ${lineNo}: only one ${key} parser directive can be used`);
    seenDirectives.add(key);
    if (key === 'escape') {
      const value = m[2];
      if (value !== '\\' && value !== '`') {
        throw new DockerfileError(`Dockerfile line ${lineNo}: escape directive must be \\ or \`, got "${value}"`);
      }
      escape = value;
      continuation = continuationPattern(escape);
    }
  };
  const joinable = (line: string): { text: string; ends: boolean } =>
    continuation.test(line) ? { text: line.replace(continuation, '$1'), ends: false } : { text: line, ends: true };

  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    const first = (lines[i++] ?? '').trimStart();
    directive(first, startLine);
    let { text: joined, ends } = joinable(isComment(first) ? '' : first);
    if (ends && joined === '') continue;

    while (!ends && i < lines.length) {
      const next = lines[i++] ?? '';
      // Comments and blank lines inside a continued instruction are skipped, as BuildKit does.
      if (isComment(next) || next.trim() === '') continue;
      const part = joinable(next);
      joined += part.text;
      ends = part.ends;
    }

    const trimmed = joined.trim();
    const space = trimmed.search(/\s/);
    const keyword = (space < 0 ? trimmed : trimmed.slice(0, space)).toUpperCase();
    const rest = space < 0 ? '' : trimmed.slice(space).trimStart();

    for (const doc of heredocsIn(keyword, rest)) {
      let terminated = false;
      while (i < lines.length) {
        let candidate = lines[i++] ?? '';
        if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === doc.name) {
          terminated = true;
          break;
        }
      }
      if (!terminated) {
        throw new DockerfileError(`Dockerfile line ${startLine}: heredoc <<${doc.name} is never terminated by a line "${doc.name}"`);
      }
    }
    instructions.push({ keyword, rest, line: startLine });
  }
  return { escape, instructions };
}
