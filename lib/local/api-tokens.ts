// The local stack's API tokens. Each has a name; only its SHA-256 is kept, in
// `<dataDir>/api-tokens.json` (mode 0600), so the file alone lets nobody in. A token is shown
// once, when it is made. `cascade token … --data-dir D` works on the file before the stack
// starts, or beside a running stack: the stack looks at the file again whenever it changes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readPrivateFile, writePrivateFile } from '../adapters/private-file';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { nameSchema } from '../http/api-schemas';

/** What `token list` shows: never the token, nor its hash. */
export interface ApiTokenView {
  name: string;
  createdAt: string;
  /** The token's first characters, to tell which one a person holds. */
  hint: string;
}

interface StoredToken extends ApiTokenView {
  sha256: string;
}

const PREFIX = 'cascade_';
/** 32 random bytes, base64url: what `create` makes, and so the only shape `verify` need hash. */
const TOKEN = /^cascade_[A-Za-z0-9_-]{43}$/;
const HINT_LENGTH = PREFIX.length + 4;

export const API_TOKENS_FILE = 'api-tokens.json';

export class ApiTokens {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();
  private cached?: { version: string; tokens: StoredToken[] };

  private readonly now: () => Date;

  constructor(options: { dataDir: string; clock?: () => Date }) {
    this.file = join(options.dataDir, API_TOKENS_FILE);
    this.now = options.clock ?? (() => new Date());
  }

  /** Makes a token named `name`; the answer is the only place the token itself ever appears. */
  async create(name: string): Promise<ApiTokenView & { token: string }> {
    const named = nameSchema.safeParse(name);
    if (!named.success) throw new ValidationError(`token name "${name}" ${named.error.issues[0]?.message ?? 'is not a name'}`, 'name');
    return this.serialised(async () => {
      const tokens = await this.load();
      if (tokens.some((t) => t.name === name)) throw new ConflictError(`a token named "${name}" already exists: revoke it first, or choose another name`);
      const token = PREFIX + randomBytes(32).toString('base64url');
      const stored: StoredToken = { name, createdAt: this.now().toISOString(), hint: token.slice(0, HINT_LENGTH), sha256: sha256(token) };
      await this.save([...tokens, stored]);
      return { ...view(stored), token };
    });
  }

  async list(): Promise<ApiTokenView[]> {
    return (await this.load()).map(view).sort((a, b) => a.name.localeCompare(b.name));
  }

  async any(): Promise<boolean> {
    return (await this.load()).length > 0;
  }

  revoke(name: string): Promise<void> {
    return this.serialised(async () => {
      const tokens = await this.load();
      if (!tokens.some((t) => t.name === name)) throw new NotFoundError('token', name);
      await this.save(tokens.filter((t) => t.name !== name));
    });
  }

  /** The name of the token `presented` is, or undefined. Every stored hash is compared, in constant time. */
  async verify(presented: string): Promise<string | undefined> {
    if (!TOKEN.test(presented)) return undefined;
    const digest = Buffer.from(sha256(presented), 'hex');
    let found: string | undefined;
    for (const token of await this.load()) {
      if (timingSafeEqual(digest, Buffer.from(token.sha256, 'hex'))) found = token.name;
    }
    return found;
  }

  private async load(): Promise<StoredToken[]> {
    const version = await this.version();
    if (this.cached?.version === version) return this.cached.tokens;
    const text = await readPrivateFile(this.file);
    const tokens = text === undefined ? [] : parse(text, this.file);
    this.cached = { version, tokens };
    return tokens;
  }

  /** Changes whenever the file is replaced (a rename gives it a new inode) or edited. */
  private async version(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw err;
    }
  }

  private async save(tokens: StoredToken[]): Promise<void> {
    await writePrivateFile(this.file, JSON.stringify({ tokens }, null, 2) + '\n');
    this.cached = undefined;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function sha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function view({ name, createdAt, hint }: StoredToken): ApiTokenView {
  return { name, createdAt, hint };
}

function parse(text: string, file: string): StoredToken[] {
  const parsed = JSON.parse(text) as { tokens?: unknown };
  if (!Array.isArray(parsed.tokens)) throw new Error(`${file} is not cascade's token file (no "tokens" list)`);
  return parsed.tokens.filter(
    (t): t is StoredToken =>
      typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.createdAt === 'string' && typeof t.hint === 'string' && /^[0-9a-f]{64}$/.test(String(t.sha256)),
  );
}
