import type { Server } from 'node:http'

/**
 * Stops taking connections and lets the requests in flight finish, for at most `graceMs`;
 * what is still open then is cut. Resolves true when everything finished in time.
 */
export async function drainServer(server: Server, graceMs: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  // A keep-alive connection whose last request just finished is idle now: close it too.
  const sweep = setInterval(() => server.closeIdleConnections(), 100)
  let timer: NodeJS.Timeout | undefined
  const timedOut = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ])
  clearInterval(sweep)
  clearTimeout(timer)
  if (timedOut) server.closeAllConnections()
  return !timedOut
}
