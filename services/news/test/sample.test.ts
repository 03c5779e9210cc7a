import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { loadSample, SAMPLE_FILE } from '../src/sample.js'

test('the bundled sample has at least 30 valid stories and says it is sample data', () => {
  const raw = JSON.parse(readFileSync(SAMPLE_FILE, 'utf8'))
  assert.match(raw.note, /sample/i)
  const sample = loadSample()
  assert.ok(sample.stories.length >= 30, `${sample.stories.length} stories`)
  assert.equal(sample.stories.length, raw.stories.length, 'every entry passes the same checks as live items')
  assert.equal(new Set(sample.stories.map((s) => s.id)).size, sample.stories.length, 'ids are unique')
  assert.ok(sample.stories.every((s) => s.by && s.time && s.title))
  assert.ok(!SAMPLE_FILE.pathname.includes('/data/'), 'not under a gitignored data/ folder')
})
