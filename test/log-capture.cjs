// Runs before every test file: every console line goes to a capture file, which the global
// teardown scans for secrets. log/info/debug are kept out of the terminal (they are in the
// capture); warn/error still show.
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { format } = require('node:util');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Powertools' Logger writes to a Console of its own on process.stdout, past the capture below;
// with POWERTOOLS_DEV it writes through the global console instead (indented), so its lines are
// captured and scanned like every other, and tests can read them.
process.env.POWERTOOLS_DEV = 'true';

const dir = process.env.CASCADE_TEST_CAPTURE_DIR;
if (dir) {
  const file = join(dir, `console-${process.pid}.log`);
  for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
      appendFileSync(file, `${level}: ${format(...args)}\n`);
      if (level === 'warn' || level === 'error' || process.env.CASCADE_TEST_VERBOSE) original(...args);
    };
  }
}
