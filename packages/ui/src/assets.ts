import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'

const require = createRequire(import.meta.url)
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

// Only the htmx 2 builds: dist/ext/ in htmx.org holds the htmx 1 extensions.
const files: Record<string, { path: string; type: string }> = {
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript' },
  'ws.min.js': { path: require.resolve('htmx-ext-ws/dist/ws.min.js'), type: 'text/javascript' },
  'sse.min.js': { path: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: 'text/javascript' },
  'dx.js': { path: here('./client/dx.js'), type: 'text/javascript' },
  'app.css': { path: here('../dist/app.css'), type: 'text/css' },
}

/** `/assets/*`: htmx, its extensions, our client glue and the compiled CSS, from our own build. */
export function assets() {
  const app = new Hono()
  app.get('/assets/:file', async (c) => {
    const file = files[c.req.param('file')]
    if (!file) return c.text('no such asset', 404)
    try {
      const body = await readFile(file.path)
      return c.body(body, 200, {
        'content-type': `${file.type}; charset=utf-8`,
        'cache-control': 'no-cache',
      })
    } catch {
      // app.css is build output: say how to make it rather than a bare 404.
      return c.text(`asset ${c.req.param('file')} is not built yet: run "npm run build:css"`, 503)
    }
  })
  return app
}
