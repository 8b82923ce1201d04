// Sits between a registry's notifications and cascade: records each delivery verbatim, then
// forwards it, so a test can deliver exactly the same notification again later.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ForwardingRecorder {
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

export async function startForwardingRecorder(target: () => string): Promise<ForwardingRecorder> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const delivery = { path: req.url ?? '/', headers, body: Buffer.concat(chunks) };
      deliveries.push(delivery);
      fetch(`${target()}${delivery.path}`, { method: 'POST', headers, body: delivery.body })
        .then(async (answer) => res.writeHead(answer.status).end(await answer.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
