import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Hono, type Context } from 'hono'

const require = createRequire(import.meta.url)
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

const js = 'text/javascript; charset=utf-8'
// Only the htmx 2 builds: dist/ext/ in htmx.org holds the htmx 1 extensions.
const files: Record<string, { path: string; type: string }> = {
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: js },
  'ws.min.js': { path: require.resolve('htmx-ext-ws/dist/ws.min.js'), type: js },
  'sse.min.js': { path: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: js },
  'dx.js': { path: here('./client/dx.js'), type: js },
  'app.css': { path: here('../dist/app.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { path: here('./favicon.svg'), type: 'image/svg+xml' },
}

/**
 * `/assets/*`: htmx, its extensions, our client glue, the compiled CSS and the icon, from
 * our own build; `/favicon.ico` too, since browsers ask for it on pages that name none.
 */
export function assets() {
  const app = new Hono()
  app.get('/assets/:file', (c) => serve(c, c.req.param('file')))
  app.get('/favicon.ico', (c) => serve(c, 'favicon.svg'))
  return app
}

async function serve(c: Context, name: string) {
  // Own keys only: "constructor" or "__proto__" are not assets.
  const file = Object.hasOwn(files, name) ? files[name] : undefined
  if (!file) return c.text('no such asset', 404)
  try {
    const body = await readFile(file.path)
    return c.body(body, 200, { 'content-type': file.type, 'cache-control': 'no-cache' })
  } catch {
    // app.css is build output: say how to make it rather than a bare 404.
    return c.text(`asset ${name} is not built yet: run "npm run build:css"`, 503)
  }
}
