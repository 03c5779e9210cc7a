// The two facts about this machine that planCluster needs, looked up before planning.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { busTarget, type NatsFacts } from './cluster-plan.js'
import type { Env } from './plan.js'
import { portProblem } from './net.js'

/** The first executable `name` on PATH, as a shell would find it. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

/** Whether nats-server can be started, and whether the bus's port is free for it. */
export async function natsFacts(env: Env): Promise<NatsFacts> {
  const bus = busTarget(env)
  const portFree = bus.local ? (await portProblem(bus.port, '127.0.0.1')) === undefined : false
  // Debian puts it in /usr/sbin, which is not on a normal user's PATH.
  return { natsServer: onPath('nats-server', env.PATH) ?? onPath('nats-server', '/usr/sbin:/usr/local/sbin'), portFree }
}
