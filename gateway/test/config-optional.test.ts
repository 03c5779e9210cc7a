import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { loadConfig, parseConfig } from '../src/config.js'

const toml = `
[[services]]
name = "todo"
upstreams = ["http://127.0.0.1:4001"]

[[services]]
name = "clock"
optional = true
upstreams = ["http://127.0.0.1:4004"]
standalone_url = "http://localhost:4004"
`

test('an optional service is left out unless its NAME_URL is set', () => {
  assert.deepEqual(parseConfig(toml, 'gw.toml', {}).services.map((s) => s.name), ['todo'])
  assert.deepEqual(parseConfig(toml, 'gw.toml', { CLOCK_URL: '' }).services.map((s) => s.name), ['todo'])
  const on = parseConfig(toml, 'gw.toml', { CLOCK_URL: 'http://127.0.0.1:5004' })
  assert.deepEqual(on.services.map((s) => s.name), ['todo', 'clock'])
  assert.deepEqual(on.services[1].upstreams.map(String), ['http://127.0.0.1:5004/'])
  assert.equal(on.services[1].standaloneUrl, 'http://localhost:4004')
  // Not optional: always there, from the file when its variable is unset.
  assert.deepEqual(parseConfig(toml.replace('optional = true', 'optional = false'), 'gw.toml', {}).services.map((s) => s.name), ['todo', 'clock'])
})

test('an optional service is still checked when it is left out', () => {
  assert.throws(() => parseConfig(toml.replace('optional = true', 'optional = "yes"'), 'gw.toml', {}), /services\[1\]\.optional/)
  assert.throws(() => parseConfig(toml.replace('name = "clock"', 'name = "todo"'), 'gw.toml', {}), /"\/todo" is used twice/)
})

test('the shipped gateway.toml: todo, chat and news; the Python clock only with CLOCK_URL', () => {
  const file = fileURLToPath(new URL('../gateway.toml', import.meta.url))
  assert.deepEqual(loadConfig(file, {}).services.map((s) => s.name), ['todo', 'chat', 'news'])
  assert.deepEqual(loadConfig(file, { CLOCK_URL: 'http://127.0.0.1:4004' }).services.map((s) => s.name), ['todo', 'chat', 'news', 'clock'])
})
