// The ingest benchmark's load, in a process of its own (bench/run.ts starts it): autocannon
// posting one signed GitHub push for `seconds`, each request with a delivery id of its own (the
// signature covers the body only, as GitHub's does). Prints {rps, p99_ms, requests, non2xx,
// errors, cpu_ms}: cpu_ms is this process's own CPU time, user and system, while it ran.
const autocannon = require('autocannon');
const { readFileSync } = require('node:fs');

const [url, bodyFile, headersJson, seconds] = process.argv.slice(2);
const body = readFileSync(bodyFile, 'utf8');
const headers = JSON.parse(headersJson);
let n = 0;

autocannon(
  {
    url,
    method: 'POST',
    duration: Number(seconds),
    connections: 32,
    pipelining: 1,
    requests: [{ method: 'POST', body, setupRequest: (req) => ({ ...req, headers: { ...headers, 'x-github-delivery': `bench-${process.pid}-${(n += 1)}` } }) }],
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exit(1);
    }
    process.stdout.write(
      JSON.stringify({
        rps: Math.round(result.requests.average),
        p99_ms: result.latency.p99,
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        cpu_ms: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      }),
    );
  },
);
