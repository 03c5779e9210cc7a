// The server-composed main page (`GET /` on the gateway) against its peers, side by side
// in one run, in alternating rounds: three widgets that each answer after 50 ms, composed
//   - by the gateway (one request),
//   - by the browser (the shell, then 1 request per widget: htmx's way),
//   - by Zalando Tailor (node-tailor) with the same shell around the same fragments,
// and, as the floor, the three fragments fetched straight from their servers.
// Prints time to the full page at 0 and 40 ms of emulated client RTT, pages/s at 64
// connections (wrk, or a Node client), and the page with one service down or slow (2 s).
// Goals are printed with the figures, never asserted: the run fails only when broken
// (a page without its widgets, a non-2xx answer, a process that did not start).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLIENT_MARKER, filledSlot, shellPage, slotMarker } from '@dx/shell'
import { cpuMs, freePort, Proc, quantile, root, sleep } from '@dx/testkit'
import { buildGateway, bundlePath, nodeFlags } from '../build.js'
import { delayProxy, type DelayProxy } from './lib/delay-proxy.js'
import { load, loadTool, type LoadRun } from './lib/load.js'
import { browserComposed, parallelFragments, serverComposed, type Mode, type Sample } from './lib/pages.js'

const FRAGMENT_MS = 50
const BUDGET_MS = 300
const SLOW_MS = 2000
const RTTS = [0, 40]
const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3))
const pagesPerRound = Number(process.env.BENCH_PAGES ?? 30)
const failPages = Number(process.env.BENCH_FAIL_PAGES ?? 6)
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const connections = Number(process.env.BENCH_CONCURRENCY ?? 64)
const names = ['a', 'b', 'c'] as const
const slots = names.map((name) => ({ name, title: name.toUpperCase(), widget: `/${name}` }))
const marker = (name: string) => `fragment-${name}-end`

const median = (xs: number[]) => quantile(xs, 0.5)
const f1 = (n: number) => n.toFixed(1)
const range = (xs: number[], f = f1) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`
const stop: Array<() => unknown> = []

// --- the system: fragments, gateway and Tailor, each in a process of its own ---
const dir = mkdtempSync(join(tmpdir(), 'dx-bench-compose-'))
stop.push(() => rmSync(dir, { recursive: true, force: true }))
const fragPorts = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const))) as Record<(typeof names)[number], number>
const fragments = await startFragments()
stop.push(() => fragments.kill())

writeFileSync(
  join(dir, 'gateway.toml'),
  names.map((n) => `[[services]]\nname = "${n}"\nupstreams = ["http://127.0.0.1:${fragPorts[n]}"]\ncompose_budget_ms = ${BUDGET_MS}\n`).join('\n'),
)
// The gateway as make start runs it: its bundle, with its flags.
await buildGateway()
const gw = new Proc({ name: 'gateway', entry: bundlePath, nodeFlags, port: await freePort(), env: { DX_CONFIG: join(dir, 'gateway.toml') } })
stop.push(() => gw.stop())

// Tailor's template is the gateway's own shell, each slot's section around a <fragment>.
let template = String(await shellPage(slots)).replace(CLIENT_MARKER, 'x'.repeat(24))
for (const s of slots) {
  const tag = `<fragment src="http://127.0.0.1:${fragPorts[s.name]}/${s.name}" timeout="${BUDGET_MS}"></fragment>`
  template = template.replace(slotMarker(s.name), String(await filledSlot(s, tag)))
}
writeFileSync(join(dir, 'page.html'), template)
const tailor = new Proc({ name: 'tailor', entry: 'gateway/bench/lib/tailor.ts', port: await freePort(), env: { DX_BENCH_TEMPLATE: join(dir, 'page.html') } })
stop.push(() => tailor.stop())

async function main() {
  console.log(
    `fragments: ${FRAGMENT_MS} ms each; slot budget ${BUDGET_MS} ms (Tailor: timeout="${BUDGET_MS}"); ` +
      `${rounds} rounds, modes alternating page by page; load from ${loadTool}; machine load ${loadavg()}`,
  )
  console.log(`(browser-composed = GET /assets/layout.html from the gateway, then /a, /b, /c with HX-Request through the gateway)`)
  const t0 = Date.now()
  const phase = async <T>(label: string, f: () => Promise<T>) => {
    const r = await f()
    console.log(`  ${label} done at ${Math.round((Date.now() - t0) / 1000)} s`)
    return r
  }
  const pieces = await composerPieces()
  const timing = new Map<number, Map<string, Sample[][]>>()
  for (const rtt of RTTS) timing.set(rtt, await phase(`time to page at RTT ${rtt} ms`, () => timeToPage(rtt)))
  const through = await phase('throughput', throughput)
  const failures = await phase('failure cases', failureCases)
  report(timing, through, failures, pieces)
}

// --- processes ---

/** The fragment servers' process; `steer` takes one down, slows it or brings it back. */
async function startFragments() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/bench/lib/fragments.ts'], {
    cwd: root,
    env: { ...process.env, DX_BENCH_DELAY_MS: String(FRAGMENT_MS), DX_BENCH_FRAGMENTS: names.map((n) => `${n}=${fragPorts[n]}`).join(',') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await reply(child, 'ready', 20_000)
  return {
    pid: child.pid!,
    kill: () => child.kill(),
    steer: async (name: string, state: 'up' | 'down' | 'slow', ms?: number) => {
      child.send({ name, state, ms })
      await reply(child, 'done', 5000)
    },
  }
}

function reply(child: ChildProcess, key: string, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the fragment servers did not answer "${key}" within ${timeoutMs} ms`)), timeoutMs)
    const on = (m: Record<string, unknown>) => {
      if (!m[key]) return
      clearTimeout(timer)
      child.off('message', on)
      resolve()
    }
    child.on('message', on)
    child.once('exit', (code) => reject(new Error(`the fragment servers exited with ${code}`)))
  })
}

/** Until the gateway's page is as `check` expects: its health checks see a change only at their next probe. */
async function untilPage(check: (s: Sample) => string | undefined, what: string) {
  const until = Date.now() + 15_000
  let last = ''
  while (Date.now() < until) {
    last = await (await fetch(gw.url)).text()
    if (!check({ ms: 0, firstMs: 0, bytes: 0, text: last, statuses: [200] })) return
    await sleep(200)
  }
  throw new Error(`the gateway's page never showed ${what}; last page:\n${last.slice(-2000)}`)
}

const untilComposed = () => untilPage((s) => (names.every((n) => s.text.includes(marker(n))) ? undefined : 'missing'), 'all three widgets')

const loadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return '?'
  }
}

// --- time to the full page ---

type Check = (s: Sample) => string | undefined
const allWidgets: Check = (s) => (names.every((n) => s.text.includes(marker(n))) ? undefined : 'a widget is missing')

/** Each mode's samples per round, pages alternating between modes, after a warm-up. */
async function sampleModes(modes: Record<string, Mode>, pages: Record<string, number>, checks: Record<string, Check>, nRounds = rounds) {
  const names = Object.keys(modes)
  const out = new Map<string, Sample[][]>(names.map((m) => [m, []]))
  try {
    for (const m of names) for (let i = 0; i < 2; i++) await modes[m].run() // connections up, JIT warm
    for (let r = 0; r < nRounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length])
      for (const m of names) out.get(m)!.push([])
      const most = Math.max(...Object.values(pages))
      for (let i = 0; i < most; i++) {
        for (const m of order) {
          if (i >= pages[m]) continue
          const s = await modes[m].run()
          const bad = s.statuses.find((st) => st < 200 || st > 299) !== undefined && m !== 'browser' ? `status ${s.statuses}` : checks[m](s)
          if (bad) throw new Error(`${m}: ${bad}; got:\n${s.text.slice(0, 3000)}`)
          out.get(m)!.at(-1)!.push(s)
        }
      }
    }
  } finally {
    await Promise.all(Object.values(modes).map((m) => m.close()))
  }
  return out
}

/** The origin a client uses for `port` at `rtt`: the server itself, or a delay proxy in front of it. */
async function origin(port: number, rtt: number, proxies: DelayProxy[]) {
  if (rtt === 0) return `http://127.0.0.1:${port}`
  const p = await delayProxy(port, rtt)
  proxies.push(p)
  return `http://127.0.0.1:${p.port}`
}

async function timeToPage(rtt: number) {
  const proxies: DelayProxy[] = []
  try {
    const gwOrigin = await origin(gw.opts.port, rtt, proxies)
    const modes: Record<string, Mode> = {
      composed: serverComposed(gwOrigin),
      browser: browserComposed(gwOrigin, '/assets/layout.html', names.map((n) => `/${n}`)),
      tailor: serverComposed(await origin(tailor.opts.port, rtt, proxies)),
      fragments: parallelFragments(await Promise.all(names.map((n) => origin(fragPorts[n], rtt, proxies))), names.map((n) => `/${n}`)),
      // The same three through the gateway's proxy: what one more hop costs, composition aside.
      proxied: parallelFragments(names.map(() => gwOrigin), names.map((n) => `/${n}`), { 'HX-Request': 'true' }),
    }
    // A page over an emulated RTT takes twice as long: fewer of them keep the run within ~3 minutes.
    const n = rtt === 0 ? pagesPerRound : Math.ceil((pagesPerRound * 2) / 3)
    const pages = Object.fromEntries(Object.keys(modes).map((m) => [m, n]))
    const checks = Object.fromEntries(Object.keys(modes).map((m) => [m, allWidgets]))
    return await sampleModes(modes, pages, checks)
  } finally {
    for (const p of proxies) await p.close()
  }
}

// --- throughput ---

type Through = { run: LoadRun; cpuPerPage: number; fragCpuPerPage: number }

async function throughput() {
  const targets = { composed: { url: `${gw.url}/`, pid: gw.child!.pid! }, tailor: { url: `${tailor.url}/`, pid: tailor.child!.pid! } }
  const out = new Map<string, Through[]>(Object.keys(targets).map((t) => [t, []]))
  for (const t of Object.values(targets)) await load(t.url, connections, 1) // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['composed', 'tailor'] as const) : (['tailor', 'composed'] as const)
    for (const name of order) {
      const t = targets[name]
      const cpu0 = cpuMs(t.pid)
      const frag0 = cpuMs(fragments.pid)
      const run = await load(t.url, connections, seconds)
      out.get(name)!.push({ run, cpuPerPage: (cpuMs(t.pid) - cpu0) / run.requests, fragCpuPerPage: (cpuMs(fragments.pid) - frag0) / run.requests })
      await sleep(300)
    }
  }
  return out
}

// --- failure cases ---

async function failureCases() {
  const out = new Map<string, Map<string, Sample[][]>>()
  const b = 'b'
  const others = names.filter((n) => n !== b)
  const othersThere: Check = (s) => (others.every((n) => s.text.includes(marker(n))) ? undefined : 'a working widget is missing')
  const slotB = (s: Sample) => /<section id="slot-b"([^>]*)>([\s\S]*?)<\/section>/.exec(s.text)
  for (const state of ['down', 'slow'] as const) {
    await fragments.steer(b, state, SLOW_MS)
    const composedCheck: Check = (s) => {
      const m = slotB(s)
      if (!m) return 'no slot b'
      if (state === 'slow' && !/hx-trigger="load"/.test(m[1])) return 'slot b is not the placeholder'
      if (state === 'down' && !/data-dx-(fallback|stale)/.test(m[2])) return 'slot b is neither fallback nor stale'
      return othersThere(s)
    }
    await untilPage(composedCheck, `b ${state}`)
    const browserCheck: Check = (s) => (state === 'slow' && !s.text.includes(marker(b)) ? 'the slow widget never came' : othersThere(s))
    const modes: Record<string, Mode> = {
      composed: serverComposed(gw.url),
      tailor: serverComposed(tailor.url),
      browser: browserComposed(gw.url, '/assets/layout.html', names.map((n) => `/${n}`)),
    }
    // A browser waits the 2 s of the slow widget: fewer of those.
    const pages = { composed: failPages, tailor: failPages, browser: state === 'slow' ? 2 : failPages }
    out.set(state, await sampleModes(modes, pages, { composed: composedCheck, tailor: othersThere, browser: browserCheck }))
    await fragments.steer(b, 'up')
    await untilComposed() // the gateway's health checks have seen it back
  }
  return out
}

// --- what the composer spends per page on its own markup, measured here in-process ---

async function composerPieces() {
  const time = async (n: number, f: () => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await f()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await f()
    return ((performance.now() - t0) * 1000) / n
  }
  const shellUs = await time(2000, async () => String(await shellPage(slots)))
  const slotUs = await time(5000, async () => String(await filledSlot(slots[0], '<div>fragment</div>')))
  return { shellUs, slotUs }
}

// --- the report ---

function report(timing: Map<number, Map<string, Sample[][]>>, through: Map<string, Through[]>, failures: Map<string, Map<string, Sample[][]>>, pieces: { shellUs: number; slotUs: number }) {
  const flat = (rs: Sample[][]) => rs.flat().map((s) => s.ms)
  const roundMedians = (rs: Sample[][]) => rs.map((r) => median(r.map((s) => s.ms)))
  const line = (label: string, rs: Sample[][]) =>
    `  ${label.padEnd(10)} ${f1(median(flat(rs))).padStart(7)} ms  [${range(flat(rs))}]  rounds ${range(roundMedians(rs))}  first byte ${f1(median(rs.flat().map((s) => s.firstMs)))} ms  ${rs[0][0].bytes} B`
  const goals: string[] = []

  console.log(`\n== Time to the full page (pages per mode per round: ${[...timing.values()].map((m) => m.get('composed')![0].length).join(', ')}; median [min–max], round medians min–max)`)
  for (const [rtt, modes] of timing) {
    console.log(`RTT ${rtt} ms:`)
    for (const [m, rs] of modes) console.log(line(m, rs))
    // Paired per round: the composed page against the slowest fragment fetched in the same round.
    const over = modes.get('composed')!.map((r, i) => median(r.map((s) => s.ms)) - median(modes.get('fragments')![i].map((s) => s.ms)))
    const tailorOver = modes.get('tailor')!.map((r, i) => median(r.map((s) => s.ms)) - median(modes.get('fragments')![i].map((s) => s.ms)))
    const proxiedOver = modes.get('composed')!.map((r, i) => median(r.map((s) => s.ms)) - median(modes.get('proxied')![i].map((s) => s.ms)))
    console.log(`  composed − slowest fragment: ${f1(median(over))} ms [${range(over)}] (Tailor: ${f1(median(tailorOver))} ms [${range(tailorOver)}])`)
    console.log(`  composed − slowest fragment through the gateway's proxy: ${f1(median(proxiedOver))} ms [${range(proxiedOver)}] (the composing itself, the hop aside)`)
    goals.push(goal(`page ≤ slowest fragment + 3 ms at RTT ${rtt}`, median(over) <= 3, `+${f1(median(over))} ms (round medians ${range(over)})`))
  }

  console.log(`\n== Throughput: ${connections} connections, ${seconds} s × ${rounds} rounds (${loadTool}); ceiling ${connections} / ${FRAGMENT_MS} ms = ${Math.round((connections * 1000) / FRAGMENT_MS)} pages/s`)
  const stat = (name: string, pick: (t: Through) => number) => through.get(name)!.map(pick)
  for (const name of through.keys()) {
    const rps = stat(name, (t) => t.run.rps)
    const mean = stat(name, (t) => t.run.meanMs)
    const p99 = stat(name, (t) => t.run.p99Ms)
    const cpu = stat(name, (t) => t.cpuPerPage)
    const frag = stat(name, (t) => t.fragCpuPerPage)
    console.log(
      `  ${name.padEnd(9)} ${Math.round(median(rps))} pages/s [${range(rps, (n) => String(Math.round(n)))}], mean ${f1(median(mean))} ms [${range(mean)}], ` +
        `p99 ${f1(median(p99))} ms [${range(p99)}], CPU ${(median(cpu) * 1000).toFixed(0)} µs/page [${range(cpu.map((c) => c * 1000), (n) => n.toFixed(0))}] ` +
        `(+ fragment servers ${(median(frag) * 1000).toFixed(0)} µs/page)`,
    )
  }
  const c = through.get('composed')!
  const t = through.get('tailor')!
  const wins = (pick: (x: Through) => number, better: (a: number, b: number) => boolean) => c.filter((x, i) => better(pick(x), pick(t[i]))).length
  const rpsWins = wins((x) => x.run.rps, (a, b) => a > b)
  const meanWins = wins((x) => x.run.meanMs, (a, b) => a < b)
  const p99Wins = wins((x) => x.run.p99Ms, (a, b) => a < b)
  const med = (xs: Through[], pick: (x: Through) => number) => median(xs.map(pick))
  goals.push(
    goal(
      'composed ahead of Tailor (pages/s, mean, p99)',
      med(c, (x) => x.run.rps) > med(t, (x) => x.run.rps) && med(c, (x) => x.run.meanMs) < med(t, (x) => x.run.meanMs) && med(c, (x) => x.run.p99Ms) < med(t, (x) => x.run.p99Ms),
      `${Math.round(med(c, (x) => x.run.rps))} vs ${Math.round(med(t, (x) => x.run.rps))} pages/s, mean ${f1(med(c, (x) => x.run.meanMs))} vs ${f1(med(t, (x) => x.run.meanMs))} ms, ` +
        `p99 ${f1(med(c, (x) => x.run.p99Ms))} vs ${f1(med(t, (x) => x.run.p99Ms))} ms; rounds won ${rpsWins}/${meanWins}/${p99Wins} of ${rounds}`,
    ),
  )

  console.log(`\n== One service (b) down or slow (${SLOW_MS} ms), RTT 0; goal: the page within budget ${BUDGET_MS} + 5 ms`)
  for (const [state, modes] of failures) {
    console.log(`${state}:`)
    for (const [m, rs] of modes) console.log(line(m, rs))
    const ms = flat(modes.get('composed')!)
    goals.push(goal(`page with b ${state} ≤ ${BUDGET_MS + 5} ms`, median(ms) <= BUDGET_MS + 5, `median ${f1(median(ms))} ms, max ${f1(Math.max(...ms))} ms`))
    if (state === 'down') {
      const reasons = new Set(modes.get('composed')!.flat().map((s) => /data-dx-(?:fallback="([^"]+)"|(stale))/.exec(s.text)?.slice(1).find(Boolean)))
      console.log(`  composed slot b was: ${[...reasons].join(', ')}`)
    }
  }

  console.log(`\n== Composer pieces (this process): shellPage ${f1(pieces.shellUs)} µs per render, filledSlot ${f1(pieces.slotUs)} µs per slot`)
  console.log(`\n== Goals (printed, not asserted)`)
  for (const g of goals) console.log(g)
  console.log(`machine load at the end ${loadavg()}`)
}

function goal(label: string, met: boolean, detail: string) {
  return `  [${met ? 'met' : 'NOT met'}] ${label}: ${detail}`
}

// Last, so that everything above is defined when it runs.
try {
  await Promise.all([gw.start(), tailor.start()])
  await untilComposed()
  await main()
} finally {
  for (const s of stop.reverse()) await s()
}
