// Bundles the gateway into one file, gateway/dist/main.mjs, which `make start` and the
// Docker image run with plain `node` and the flags below. Measured under load (make bench),
// tsx's loader thread cost the gateway about 28 MB, and V8's default heap sizing another
// 40 MB, against a goal of 100 MB in all.
// `make watch` still runs the sources with tsx, to restart on an edit.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

/** The bundle, from the repository's root. */
export const bundlePath = 'gateway/dist/main.mjs'

/**
 * Node flags for the gateway, each measured under load with make bench:
 * - a young generation of 2 × 4 MB instead of 2 × 16 MB: a proxy's objects live for one
 *   exchange. Against 2 × 8 MB, the peak RSS was 90.1 against 99.8 MB in make bench, for a
 *   few % more CPU per proxied request (2.21× against 2.17× NGINX's there; 3-12% in paired
 *   runs) and per composed page (255 against 160-211 µs). V8 rounds the size up to a power
 *   of two: 6 is 8;
 * - the old generation grown by 20% over what survived the last full GC, not up to 4×;
 * - the HTTP parser behind `fetch` (undici's, WebAssembly) kept at its baseline compile
 *   (Liftoff). V8's optimizing compile of it, which --no-wasm-tier-up does not prevent, ran
 *   on a helper thread just after start-up: RSS rose by 30 MB for 150 ms (the whole run's
 *   peak), and 5-10 MB of it stayed. Only health probes and event deliveries use `fetch`;
 *   proxied requests go through proxy/pool.ts and Node's own parser;
 * - garbage collected on the main thread only: V8's helper threads cost more than they
 *   saved on 2 cores shared with the services (6% less CPU per proxied request, 450
 *   against 653 µs per composed page), at the price of pauses of a few ms on this small heap;
 * - one V8 helper thread instead of four: with the collector on the main thread they only
 *   compile, and each kept its own malloc arena of about 1.5 MB after the start-up compiles.
 *   After 40 s at 64 connections the peak RSS was 100.5 against 109.2 MB, with the same CPU
 *   per request (32.5 against 32 µs) and per composed page (307 against 308 µs).
 */
export const nodeFlags = ['--max-semi-space-size=4', '--heap-growing-percent=20', '--liftoff-only', '--single-threaded-gc', '--v8-pool-size=1']

export async function buildGateway(): Promise<string> {
  // Loaded here, so that reading the flags above costs nothing.
  const { build } = await import('esbuild')
  const bundle = here(`../${bundlePath}`)
  await build({
    entryPoints: [here('./src/main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // No comments, whose non-ASCII characters (undici's) made V8 keep the whole 2.5 MB
    // source as UTF-16; names stay as written, for stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    // Licence notices go beside the bundle, not into it (one has a non-ASCII name too).
    legalComments: 'external',
    // CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __dxRequire } from 'node:module'; const require = __dxRequire(import.meta.url);" },
  })
  // One non-ASCII character (say, a "…" in a tagged template, which esbuild cannot escape)
  // doubles the memory V8 keeps for the source.
  const text = readFileSync(bundle, 'latin1')
  const at = text.search(/[^\x00-\x7f]/)
  if (at >= 0) console.warn(`gateway/build.ts: non-ASCII text in the bundle costs ~${Math.round(text.length / 1e6)} MB of memory; write it as an escape or entity: …${text.slice(Math.max(0, at - 40), at + 10)}…`)
  return bundle
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`wrote ${await buildGateway()}`)
}
