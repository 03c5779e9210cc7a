import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_LIMIT, PAGE_SIZE, parseId, parsePage } from '../src/params.js'

test('defaults: offset 0 and a page of 5', () => {
  assert.deepEqual(parsePage({}), { ok: true, value: { offset: 0, limit: PAGE_SIZE } })
  assert.equal(PAGE_SIZE, 5)
  assert.deepEqual(parsePage({ offset: '10', limit: '7' }), { ok: true, value: { offset: 10, limit: 7 } })
})

test('limit is capped at 30', () => {
  assert.deepEqual(parsePage({ limit: '31' }), { ok: true, value: { offset: 0, limit: MAX_LIMIT } })
  assert.deepEqual(parsePage({ limit: '100000' }), { ok: true, value: { offset: 0, limit: 30 } })
})

test('bad numbers are refused with a message naming the parameter', () => {
  for (const offset of ['-1', 'abc', '1.5', '', ' 1', '1e3', '0x10', '9'.repeat(16)]) {
    const r = parsePage({ offset })
    assert.equal(r.ok, false, offset)
    assert.match((r as { error: string }).error, /^offset must be/)
  }
  for (const limit of ['-1', 'abc', '1.5', '0', '', 'NaN']) {
    const r = parsePage({ limit })
    assert.equal(r.ok, false, limit)
    assert.match((r as { error: string }).error, /^limit must be a whole number from 1 to 30/)
  }
})

test('ids are positive whole numbers', () => {
  assert.deepEqual(parseId('42'), { ok: true, value: 42 })
  for (const bad of ['0', '-1', '1.5', 'abc', '', '01', '9'.repeat(16), undefined, 42]) {
    assert.equal(parseId(bad).ok, false, String(bad))
  }
})
