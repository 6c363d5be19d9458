import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

/** `.runbox/compile-cache` of this checkout, beside the toolchain: only its owner writes there. */
const CHECKOUT_CACHE_DIR = fileURLToPath(
  new URL('../../../../.runbox/compile-cache', import.meta.url),
);

/**
 * Keeps Node's type-stripped TypeScript and V8's compiled code of every module imported after this
 * call, so that the next run of a one-shot command loads its ~80 modules from the cache instead of
 * stripping and compiling them again (~100 ms of a trivial `./runbox exec`). Modules imported
 * statically by the caller are loaded before it runs: import the rest with `import()`. A cache that
 * cannot be written is no error (the command runs uncached); NODE_COMPILE_CACHE names another
 * directory and NODE_DISABLE_COMPILE_CACHE=1 turns it off, as for any Node process.
 */
export function useCompileCache(): void {
  enableCompileCache(process.env.NODE_COMPILE_CACHE || CHECKOUT_CACHE_DIR);
}
