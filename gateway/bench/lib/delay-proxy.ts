// An emulated network path for benchmarks: a TCP proxy in front of a local server that
// holds every chunk for half the round-trip time in each direction, in order. A new
// connection also pays for its handshake: what the client sends within the first RTT
// leaves as if sent once the handshake was done, so a fresh connection costs 1.5 RTT
// before the server sees a byte, as on a real network.
import { connect, createServer, type Socket } from 'node:net'

type Item = { at: number; chunk?: Buffer; end?: true }

/** Writes what `from` sends into `to`, each chunk `delay` ms later than it came (no sooner than `notBefore`). */
function delayedPipe(from: Socket, to: Socket, delay: number, notBefore: number) {
  const queue: Item[] = []
  let timer: NodeJS.Timeout | undefined
  let last = 0
  const flush = () => {
    timer = undefined
    const now = performance.now()
    // Half a millisecond early is fine: a timer never fires sooner than asked, often later.
    while (queue.length && queue[0].at <= now + 0.5) {
      const item = queue.shift()!
      if (item.end) to.end()
      else if (!to.destroyed) to.write(item.chunk!)
    }
    if (queue.length) timer = setTimeout(flush, queue[0].at - now)
  }
  const push = (item: Omit<Item, 'at'>) => {
    // Order is kept: a chunk never leaves before the one ahead of it.
    last = Math.max(performance.now(), notBefore) + delay
    last = Math.max(last, queue.at(-1)?.at ?? 0)
    queue.push({ ...item, at: last })
    if (!timer) timer = setTimeout(flush, last - performance.now())
  }
  from.on('data', (chunk: Buffer) => push({ chunk }))
  from.on('end', () => push({ end: true }))
  return () => {
    if (timer) clearTimeout(timer)
    queue.length = 0
  }
}

export type DelayProxy = { port: number; close: () => Promise<void> }

/** A proxy on a free port to 127.0.0.1:`target` adding `rttMs` of round trip. */
export async function delayProxy(target: number, rttMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>()
  const server = createServer({ noDelay: true }, (client) => {
    const accepted = performance.now()
    const upstream = connect({ port: target, host: '127.0.0.1', noDelay: true })
    sockets.add(client).add(upstream)
    const stops = [delayedPipe(client, upstream, rttMs / 2, accepted + rttMs), delayedPipe(upstream, client, rttMs / 2, 0)]
    const done = () => {
      stops.forEach((stop) => stop())
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    // A reset on either side is passed on (after no delay: the benchmark never measures one).
    client.on('error', done).on('close', () => setTimeout(done, rttMs / 2))
    upstream.on('error', done).on('close', () => setTimeout(done, rttMs / 2))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
