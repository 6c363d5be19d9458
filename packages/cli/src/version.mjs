// @ts-check
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

/** The CLI's version, from its package.json (sent as the user agent, printed by --version). */
export const CLI_VERSION = /** @type {{ version: string }} */ (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
).version;
