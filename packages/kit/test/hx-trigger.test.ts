import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventsOf, parseTrigger } from '../src/hx-trigger.js'

test('a single name', () => {
  assert.deepEqual(parseTrigger('todo:added'), { events: [{ name: 'todo:added', detail: null }], malformed: false })
})

test('a comma-separated list, with whitespace', () => {
  assert.deepEqual(parseTrigger('  a:x ,b:y,   c:z  ').events.map((e) => e.name), ['a:x', 'b:y', 'c:z'])
})

test('a JSON object of name to detail', () => {
  const p = parseTrigger(' {"todo:added": {"id": 1, "text": "milk"}, "plain": null, "s": "str"} ')
  assert.equal(p.malformed, false)
  assert.deepEqual(p.events, [
    { name: 'todo:added', detail: { id: 1, text: 'milk' } },
    { name: 'plain', detail: null },
    { name: 's', detail: 'str' },
  ])
})

test('empty and missing values give no events and are not malformed', () => {
  for (const v of ['', '   ', undefined, null]) assert.deepEqual(parseTrigger(v), { events: [], malformed: false })
})

test('malformed input never throws: no events, marked malformed', () => {
  for (const v of ['{"a": ', '{not json}', '{"a":1}}', 'a,,b', 'two words', '"quoted"']) {
    const p = parseTrigger(v)
    assert.deepEqual(p.events, [], v)
    assert.equal(p.malformed, true, v)
  }
})

test('eventsOf reads only the three response headers, reports malformed ones', () => {
  const bad: string[] = []
  const events = eventsOf(
    {
      'hx-trigger': '{"todo:added": {"id": 2}}',
      'hx-trigger-after-swap': 'x:swapped',
      'hx-trigger-after-settle': '{oops',
      'hx-request': 'true',
      'hx-target': 'ignored',
    },
    (h) => bad.push(h),
  )
  assert.deepEqual(events.map((e) => e.name), ['todo:added', 'x:swapped'])
  assert.deepEqual(bad, ['hx-trigger-after-settle'])
})
