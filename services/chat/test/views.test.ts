import assert from 'node:assert/strict'
import { test } from 'node:test'
import { joinWidget, roomWidget } from '../src/views.js'

test('a room: the message form and its notice come right after the messages, in their column; members and rooms beside', async () => {
  const out = String(await roomWidget({ room: 'lobby', nick: 'ana', sid: 's', rooms: [] }))
  const main = /<div class="chat-main min-w-0">([\s\S]*?)<\/div>\s*<aside/.exec(out)
  assert.ok(main, out)
  const order = ['id="chat-messages"', 'id="chat-form"', 'id="chat-notice"'].map((id) => main[1]!.indexOf(id))
  assert.ok(order.every((i) => i >= 0), `all in the column: ${order}`)
  assert.deepEqual([...order].sort((a, b) => a - b), order)
  assert.equal(out.match(/id="chat-form"/g)?.length, 1)
})

test('the join hint names each allowed symbol, each as its own code', async () => {
  const out = String(await joinWidget([]))
  const hint = /<p class="chat-join-hint[^"]*">([\s\S]*?)<\/p>/.exec(out)![1]!
  assert.deepEqual([...hint.matchAll(/<code[^>]*>([^<]*)<\/code>/g)].map((m) => m[1]), ['_', '-', '.'])
  assert.match(hint.replace(/<[^>]+>/g, ''), /letters, digits, _ \(underscore\), - \(hyphen\) and \. \(dot\)\.$/)
})
