// TypeScript to JavaScript for the Node runner and the session kernel: module.stripTypeScriptTypes
// (mode 'strip', the erasable subset `node main.ts` accepts; positions kept, so line numbers
// match the user's file), without the warning that the API is experimental: `node main.ts`
// itself prints nothing, so neither do we.
import { stripTypeScriptTypes } from 'node:module';
import process from 'node:process';

export function stripTypes(source) {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    const message = typeof warning === 'string' ? warning : warning?.message;
    if (String(message).includes('stripTypeScriptTypes')) return;
    return emitWarning.call(process, warning, ...rest);
  };
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}
