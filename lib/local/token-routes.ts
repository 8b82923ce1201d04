// The local stack's own routes: its API tokens. (A deployed stack authenticates with IAM.)
import * as z from 'zod';
import { nameSchema, parseInput } from '../http/api-schemas';
import { jsonBody, type Route } from '../http/router';
import { json, noContent } from '../http/types';
import type { ApiTokens } from './api-tokens';

const createTokenSchema = z.strictObject({ name: nameSchema });

export const tokenRoutes: Route<ApiTokens>[] = [
  { method: 'GET', path: '/api/tokens', handle: async (_r, _p, tokens) => json(200, { tokens: await tokens.list() }) },
  { method: 'POST', path: '/api/tokens', handle: async (r, _p, tokens) => json(201, await tokens.create(parseInput(createTokenSchema, jsonBody(r)).name)) },
  {
    method: 'DELETE',
    path: '/api/tokens/{name}',
    handle: async (_r, p, tokens) => {
      await tokens.revoke(p.name as string);
      return noContent();
    },
  },
];
