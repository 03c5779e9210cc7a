import { createServer } from 'node:net'

/**
 * Tries to listen on `port` and closes again at once: the error code (`EADDRINUSE`, …)
 * when that fails. Checked before anything starts, so a port held by another program is
 * one clear line instead of three half-started parts and a stack trace.
 */
export function portProblem(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)))
  })
}

/** One probe: does `url` answer 200 within a second? */
export async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
    await res.body?.cancel()
    return res.status === 200
  } catch {
    return false
  }
}
