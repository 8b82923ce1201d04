// Variable substitution in one Dockerfile word, following BuildKit's shell lexer: quotes,
// the escape token, $VAR, ${VAR} and the ${VAR:-x} ${VAR-x} ${VAR:+x} ${VAR+x} ${VAR:?x}
// ${VAR?x} forms. Words are not split: FROM arguments are split on whitespace beforehand.
import type { EscapeToken } from './instructions';

export interface SubstituteOptions {
  escape: EscapeToken;
  /** What an unset variable becomes: nothing (as a build does), or its reference as written. */
  unset: 'empty' | 'keep';
}

export interface Substitution {
  value: string;
  /** Variables referenced bare ($X, ${X}) that were unset and so expanded to nothing. */
  unresolved: string[];
}

/** A problem in the word itself; the caller adds where it is. */
export class SubstitutionError extends Error {}

export function substitute(
  word: string,
  vars: ReadonlyMap<string, string>,
  opts: SubstituteOptions,
): Substitution {
  const lexer = new Lexer(word, vars, opts);
  const value = lexer.word(undefined);
  return { value, unresolved: [...new Set(lexer.unresolved)] };
}

class Lexer {
  private pos = 0;
  unresolved: string[] = [];

  constructor(
    private readonly text: string,
    private readonly vars: ReadonlyMap<string, string>,
    private readonly opts: SubstituteOptions,
  ) {}

  private peek(): string {
    return this.text.charAt(this.pos);
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** Reads up to `stop` (consumed) or the end of the text. */
  word(stop: string | undefined): string {
    let out = '';
    while (!this.atEnd()) {
      const ch = this.peek();
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return out;
      }
      if (ch === "'") out += this.singleQuoted();
      else if (ch === '"') out += this.doubleQuoted();
      else if (ch === '$') out += this.dollar();
      else {
        this.pos++;
        if (ch === this.opts.escape) {
          if (this.atEnd()) break;
          out += this.text.charAt(this.pos++);
        } else {
          out += ch;
        }
      }
    }
    if (stop !== undefined) throw new SubstitutionError(`missing "${stop}" in "${this.text}"`);
    return out;
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.pos + 1);
    if (end < 0) throw new SubstitutionError(`unterminated single quote in "${this.text}"`);
    const out = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return out;
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    while (!this.atEnd()) {
      const ch = this.peek();
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === this.opts.escape) {
        const next = this.peek();
        if (next === '"' || next === '$' || next === this.opts.escape) {
          out += next;
          this.pos++;
          continue;
        }
      }
      out += ch;
    }
    throw new SubstitutionError(`unterminated double quote in "${this.text}"`);
  }

  private name(): string {
    const first = this.peek();
    if (/[0-9]/.test(first)) {
      this.pos++;
      return first;
    }
    const m = /^[A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    const name = m?.[0] ?? '';
    this.pos += name.length;
    return name;
  }

  private dollar(): string {
    const start = this.pos;
    this.pos++;
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return this.lookup(name, this.text.slice(start, this.pos));
    }
    this.pos++;
    const name = this.name();
    if (name === '') throw new SubstitutionError(`bad substitution in "${this.text}": a variable name must follow "\${"`);
    if (this.atEnd()) throw new SubstitutionError(`missing "}" in "${this.text}"`);
    let op = this.peek();
    if (op === '}') {
      this.pos++;
      return this.lookup(name, this.text.slice(start, this.pos));
    }
    let colon = false;
    if (op === ':') {
      colon = true;
      this.pos++;
      op = this.peek();
    }
    if (this.atEnd()) throw new SubstitutionError(`missing "}" in "${this.text}"`);
    if (op !== '-' && op !== '+' && op !== '?') {
      throw new SubstitutionError(`unsupported modifier "${colon ? ':' : ''}${op}" in \${${name}…} in "${this.text}"`);
    }
    this.pos++;
    // The alternative is only expanded for what it contributes, so record its unset variables apart.
    const outer = this.unresolved;
    this.unresolved = [];
    const alternative = this.word('}');
    const inner = this.unresolved;
    this.unresolved = outer;

    const value = this.vars.get(name);
    const isSet = value !== undefined;
    const useValue = colon ? isSet && value !== '' : isSet;
    switch (op) {
      case '-':
        if (useValue) return value ?? '';
        this.unresolved.push(...inner);
        return alternative;
      case '+':
        if (!useValue) return '';
        this.unresolved.push(...inner);
        return alternative;
      default:
        if (useValue) return value ?? '';
        throw new SubstitutionError(`${name}: ${alternative || (colon ? 'is not allowed to be unset or empty' : 'is not allowed to be unset')}`);
    }
  }

  private lookup(name: string, written: string): string {
    const value = this.vars.get(name);
    if (value !== undefined) return value;
    if (this.opts.unset === 'keep') return written;
    this.unresolved.push(name);
    return '';
  }
}
