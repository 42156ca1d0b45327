import { existsSync } from 'node:fs';
import { type ServiceGate, unavailable } from './services.js';

/** Debian's Chromium, with the flags this machine needs to run it headless as root. */
export interface ChromiumInstall {
  executablePath: string;
  args: string[];
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Finds Chromium at GALLEY_CHROMIUM or /usr/bin/chromium. */
export function findChromium(): ServiceGate<ChromiumInstall> {
  const path = process.env['GALLEY_CHROMIUM'] ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    return unavailable('Browser tests', `Chromium is not installed at ${path} (apt-get install chromium)`);
  }
  return { available: true, service: { executablePath: path, args: CHROMIUM_ARGS } };
}
