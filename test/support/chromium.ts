// Debian's Chromium (`apt-get install chromium`, which scripts/setup.sh does), driven by
// playwright-core through its executablePath: no browser is downloaded. `--no-sandbox`: the
// tests run as root.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CASCADE_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}
