// One capture folder for the whole run: console lines and the secrets tests made.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  process.env.CASCADE_TEST_CAPTURE_DIR = mkdtempSync(join(tmpdir(), 'cascade-test-capture-'));
};
