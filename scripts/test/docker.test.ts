// Docker packaging: docker-compose.yml is valid for both profiles (checked by docker-compose
// itself), every build has its Dockerfile, the ports are DESIGN.md's, every variable the
// file sets is one the code reads, and the Dockerfiles, the Makefile's cluster list and the
// load balancer agree with the compose file. No Docker engine is needed.
import assert from 'node:assert/strict'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test, type TestContext } from 'node:test'
import { root } from '@dx/testkit'
import { envVarFor } from '../../gateway/src/config.js'
import { bundlePath, nodeFlags as gatewayNodeFlags } from '../../gateway/build.js'

type Service = {
  build?: { context: string; dockerfile?: string }
  image?: string
  profiles?: string[]
  environment?: Record<string, string | null>
  ports?: { published: number | string; target: number | string }[]
  volumes?: Volume[]
}
type Volume = { source?: string; target?: string } | string
type Compose = { services: Record<string, Service> }

const composeFile = join(root, 'docker-compose.yml')
const read = (p: string) => readFileSync(join(root, p), 'utf8')

// --- docker-compose ------------------------------------------------------------------

const composeMissing = (() => {
  const r = spawnSync('docker-compose', ['version'], { encoding: 'utf8' })
  return r.error || r.status !== 0 ? 'docker-compose is not installed: apt-get install docker-compose' : null
})()

/** On CI a missing docker-compose fails the test; on a developer's machine it skips it. */
function needCompose(t: TestContext): boolean {
  if (!composeMissing) return true
  if (process.env.CI) assert.fail(`${composeMissing} (required on CI: .ci/run installs it)`)
  t.skip(composeMissing)
  return false
}

/**
 * Runs docker-compose on our file with only the given variables: an empty --env-file so
 * a developer's own .env and shell never change the result.
 */
function compose(args: string[], vars: Record<string, string> = { DX_EVENT_SECRET: 'test-secret', POSTGRES_PASSWORD: 'test-password' }): SpawnSyncReturns<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dx-compose-'))
  try {
    const envFile = join(dir, 'empty.env')
    writeFileSync(envFile, '')
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...vars }
    return spawnSync('docker-compose', ['--env-file', envFile, '-f', composeFile, ...args], { cwd: root, env, encoding: 'utf8' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The resolved file as JSON: Compose v2 prints it; for 1.x its YAML goes through PyYAML, which 1.x itself depends on. */
const resolvedCache = new Map<string, Compose>()
function resolved(profile?: string): Compose {
  const key = profile ?? ''
  if (!resolvedCache.has(key)) resolvedCache.set(key, resolveNow(profile))
  return resolvedCache.get(key)!
}

function resolveNow(profile?: string): Compose {
  const p = profile ? ['--profile', profile] : []
  const json = compose([...p, 'config', '--format', 'json'])
  // 1.29 answers an unknown option with its usage text and status 0.
  if (json.status === 0 && json.stdout.trimStart().startsWith('{')) return JSON.parse(json.stdout) as Compose
  const yaml = compose([...p, 'config'])
  assert.equal(yaml.status, 0, yaml.stderr)
  const py = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: yaml.stdout,
    encoding: 'utf8',
  })
  assert.equal(py.status, 0, `reading docker-compose's output needs Compose v2 or python3 with PyYAML: ${py.stderr ?? py.error}`)
  return JSON.parse(py.stdout) as Compose
}

/** A volume as 1.x prints it (`source:target:mode`) or as v2 does (an object). */
const bindMount = (v: Volume) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v)

const inProfile = (c: Compose, profile?: string) =>
  Object.entries(c.services).filter(([, s]) => (profile ? s.profiles?.includes(profile) : !s.profiles?.length))

// --- what the code reads -------------------------------------------------------------

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', 'data', 'test', 'bench'].includes(name)) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) sources(p, out)
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p)
  }
  return out
}

/**
 * Every environment variable name the running code may read: `process.env.NAME`,
 * `env.NAME`, and quoted names (`process.env[name]` behind a helper such as chat's
 * `positive('CHAT_PORT', …)`).
 */
function namesTheCodeReads(): Set<string> {
  const names = new Set<string>()
  for (const dir of ['gateway', 'services', 'packages', 'apps']) {
    for (const file of sources(join(root, dir))) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1])
      for (const m of text.matchAll(/['"`]([A-Z][A-Z0-9_]*)['"`]/g)) names.add(m[1])
    }
  }
  // The gateway builds two names per configured service (gateway/src/config.ts envVarFor):
  // NAME_URL for its upstreams and NAME_STANDALONE_URL for its link. They never appear
  // literally, so they come from the service names of both gateway configs.
  for (const file of ['gateway/gateway.toml', 'deploy/gateway.cluster.toml']) {
    for (const m of read(file).matchAll(/^name\s*=\s*"([a-z0-9-]+)"/gm)) {
      names.add(envVarFor(m[1]))
      names.add(envVarFor(m[1], 'STANDALONE_URL'))
    }
  }
  return names
}

// Images we do not build: what each one documents reading (nginx and nats get none).
const imageEnv: Record<string, Set<string>> = {
  postgres: new Set(['POSTGRES_DB', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_INITDB_ARGS', 'POSTGRES_HOST_AUTH_METHOD', 'PGDATA']),
  nats: new Set(),
  nginx: new Set(),
}

// DESIGN.md, "Ports and URLs". DESIGN.md lives outside the repository (../shared), so a
// clean clone has no copy: the table is repeated here and compared with the file when it
// is there.
const designPorts: Record<string, number> = { gateway: 4040, todo: 4001, chat: 4002, news: 4003 }

test('DESIGN.md ports, when DESIGN.md is next to the repository, are the ones this test uses', (t) => {
  const design = resolve(root, '..', 'shared', 'DESIGN.md')
  if (!existsSync(design)) return t.skip(`no ${design} in a clean clone; the ports are hard-coded from it`)
  const section = readFileSync(design, 'utf8').split('## Ports and URLs')[1]?.split('\n## ')[0] ?? ''
  const table: Record<string, number> = {}
  for (const m of section.matchAll(/^\|\s*([a-z]+)[^|]*\|\s*(\d+)\s*\|/gm)) table[m[1]] = Number(m[2])
  assert.deepEqual(table, designPorts)
})

test('docker-compose accepts the file, for one host and with the cluster profile', (t) => {
  if (!needCompose(t)) return
  for (const args of [['config', '-q'], ['--profile', 'cluster', 'config', '-q']]) {
    const r = compose(args)
    assert.equal(r.status, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`)
  }
})

test('without the secrets in .env, docker-compose refuses and names them', (t) => {
  if (!needCompose(t)) return
  const r = compose(['config', '-q'], { POSTGRES_PASSWORD: 'x' })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /set DX_EVENT_SECRET in \.env/)
  const p = compose(['--profile', 'cluster', 'config', '-q'], { DX_EVENT_SECRET: 'x' })
  assert.notEqual(p.status, 0)
  assert.match(p.stderr, /set POSTGRES_PASSWORD in \.env/)
})

test('every service that is built has its Dockerfile', (t) => {
  if (!needCompose(t)) return
  const built = Object.entries(resolved('cluster').services).filter(([, s]) => s.build)
  assert.ok(built.length >= 4)
  for (const [name, s] of built) {
    const file = resolve(s.build!.context, s.build!.dockerfile ?? 'Dockerfile')
    assert.ok(existsSync(file), `${name}: no ${file}`)
    assert.equal(resolve(s.build!.context), resolve(root), `${name}: the build context is the repository root (npm workspaces)`)
  }
})

test('the single-host services publish the ports of DESIGN.md, each on its own PORT', (t) => {
  if (!needCompose(t)) return
  const services = inProfile(resolved())
  assert.deepEqual(services.map(([n]) => n).sort(), Object.keys(designPorts).sort())
  for (const [name, s] of services) {
    const ports = (s.ports ?? []).map((p) => [Number(p.published), Number(p.target)])
    assert.deepEqual(ports, [[designPorts[name], designPorts[name]]], `${name}'s ports`)
    assert.equal(s.environment?.PORT, String(designPorts[name]), `${name}'s PORT`)
    assert.equal(s.environment?.HOST, '0.0.0.0', `${name}'s HOST`)
  }
})

test('every variable the compose file sets is one the code (or the image) reads', (t) => {
  if (!needCompose(t)) return
  const known = namesTheCodeReads()
  const unknown: string[] = []
  for (const [name, s] of Object.entries(resolved('cluster').services)) {
    const image = s.build ? undefined : (s.image ?? '').split(':')[0]
    const allowed = image === undefined ? known : imageEnv[image]
    assert.ok(allowed, `${name}: image ${s.image} has no list of the variables it reads here`)
    for (const v of Object.keys(s.environment ?? {})) if (!allowed.has(v)) unknown.push(`${name}: ${v}`)
  }
  assert.deepEqual(unknown, [], 'set in docker-compose.yml but read nowhere')
})

test('the cluster: every process on the bus, gateways over every replica, with trust_forwarded', (t) => {
  if (!needCompose(t)) return
  const cluster = Object.fromEntries(inProfile(resolved('cluster'), 'cluster'))
  for (const [name, s] of Object.entries(cluster)) {
    if (s.build) assert.equal(s.environment?.DX_BUS, 'nats://nats:4222', `${name}'s DX_BUS`)
  }
  for (const gw of ['gateway-1', 'gateway-2']) {
    const env = cluster[gw]?.environment ?? {}
    for (const [svc, port] of [['todo', 4001], ['chat', 4002], ['news', 4003]] as const) {
      const urls = (env[envVarFor(svc)] ?? '').split(',')
      assert.deepEqual(urls, [`http://${svc}-1:${port}`, `http://${svc}-2:${port}`], `${gw}'s ${envVarFor(svc)}`)
      for (const u of urls) assert.ok(cluster[new URL(u).hostname], `${u}: no such service`)
      assert.equal(cluster[`${svc}-1`].environment?.[`${svc.toUpperCase()}_DATABASE_URL`], 'postgres://dx:test-password@postgres:5432/dx')
    }
    const config = env.DX_CONFIG ?? ''
    const source = (cluster[gw].volumes ?? []).map(bindMount).find((m) => m.target === config)?.source
    assert.ok(source && existsSync(source), `${gw}: DX_CONFIG=${config} is not mounted from a file of the repository`)
    assert.match(readFileSync(source, 'utf8'), /^trust_forwarded = true$/m)
  }
})

// --- no docker-compose needed ----------------------------------------------------------

const parts = { gateway: 'gateway/Dockerfile', todo: 'services/todo/Dockerfile', chat: 'services/chat/Dockerfile', news: 'services/news/Dockerfile' }
const marker = '# Only this part from here on.'

/** Workspace folders from the root package.json (`packages/*` expanded). */
function workspaces(): string[] {
  const globs = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces
  return globs.flatMap((g) =>
    g.endsWith('/*')
      ? readdirSync(join(root, g.slice(0, -2)))
          .map((d) => `${g.slice(0, -2)}/${d}`)
          .filter((d) => existsSync(join(root, d, 'package.json')))
      : [g],
  )
}

test('the Dockerfiles share everything above their last part, so the builds share layers', () => {
  const shared = (text: string) => {
    const start = text.indexOf('FROM ')
    const end = text.indexOf(marker)
    assert.ok(start >= 0 && end > start, `no FROM or no "${marker}"`)
    return text.slice(start, end)
  }
  const [first, ...rest] = Object.values(parts).map((p) => shared(read(p)))
  for (const [i, text] of rest.entries()) assert.equal(text, first, `${Object.values(parts)[i + 1]} differs from ${parts.gateway}`)
})

test('each Dockerfile installs every workspace, runs as node, checks /healthz and starts a file that exists', () => {
  for (const [name, file] of Object.entries(parts)) {
    const text = read(file)
    for (const ws of workspaces()) {
      const copies = text.split(`COPY ${ws}/package.json ${ws}/\n`).length - 1
      assert.equal(copies, 2, `${file}: ${ws}/package.json is copied into both stages, or npm ci refuses the lock file`)
    }
    const image = text.slice(text.lastIndexOf('\nFROM '))
    assert.match(image, /npm ci --omit=dev/, `${file}: the image installs production dependencies only`)
    assert.match(image, /^USER node$/m, `${file}: runs as node`)
    assert.match(image, /^ENV HOST=0\.0\.0\.0 PORT=(\d+)/m, `${file}: HOST and PORT`)
    assert.equal(Number(/PORT=(\d+)/.exec(image)![1]), designPorts[name], `${file}: PORT`)
    assert.match(image, /^HEALTHCHECK .*\n?.*\/healthz/m, `${file}: HEALTHCHECK on /healthz`)
    if (name === 'gateway') {
      // The gateway's bundle (gateway/build.ts), built in the first stage, with make start's flags.
      assert.match(image, /^COPY --from=build \/app\/gateway\/dist gateway\/dist$/m, `${file}: the bundle is copied from the build stage`)
      const cmd = /^CMD (\[.+\])$/m.exec(image)
      assert.deepEqual(cmd && JSON.parse(cmd[1]), ['node', ...gatewayNodeFlags, bundlePath], `${file}: CMD runs the bundle as make start does`)
      continue
    }
    const entry = /^CMD \["node", "--import", "tsx", "([^"]+)"\]$/m.exec(image)
    assert.ok(entry && existsSync(join(root, entry[1])), `${file}: CMD starts a file that exists`)
  }
})

test('make docker-cluster starts exactly the services of the cluster profile', (t) => {
  const list = /^CLUSTER_SERVICES := (.+)$/m.exec(read('Makefile'))
  assert.ok(list, 'no CLUSTER_SERVICES in the Makefile')
  if (!needCompose(t)) return
  const cluster = inProfile(resolved('cluster'), 'cluster').map(([n]) => n)
  assert.deepEqual(list[1].trim().split(/\s+/).sort(), cluster.sort())
})

test('the load balancer sends to services the cluster has, on their ports; nginx -t accepts it', (t) => {
  const conf = read('deploy/nginx-lb.conf')
  const compose = read('docker-compose.yml')
  const servers = [...conf.matchAll(/^\s*server ([a-z0-9-]+):(\d+)/gm)].map((m) => [m[1], Number(m[2])] as const)
  assert.equal(servers.length, 8)
  for (const [host, port] of servers) {
    assert.match(compose, new RegExp(`^  ${host}:`, 'm'), `${host} is not a service`)
    assert.equal(port, designPorts[host.replace(/-\d$/, '')], `${host}'s port`)
  }
  assert.match(conf, /proxy_buffering off;/)
  assert.match(conf, /proxy_set_header Upgrade \$http_upgrade;/)
  assert.match(conf, /proxy_set_header X-Forwarded-For /)
  const nginx = spawnSync('nginx', ['-v'])
  if (nginx.error) return t.skip('nginx is not installed, so nginx -t was not run (apt-get install nginx-light)')
  // Container names do not resolve here: the same file with every upstream on 127.0.0.1.
  const dir = mkdtempSync(join(tmpdir(), 'dx-lb-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'lb.conf'), conf.replace(/^(\s*server )[a-z0-9-]+:/gm, '$1127.0.0.1:'))
  writeFileSync(
    join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp { access_log off; include ${dir}/lb.conf; }\n`,
  )
  const r = spawnSync('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
})
