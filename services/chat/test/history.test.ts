import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openHistory } from '../src/history.js'

const msg = (room: string, i: number) => ({ id: `${room}-${i}`, room, nick: 'al', text: `m${i}`, time: new Date(i * 1000).toISOString() })

test('keeps the last 100 messages per room, oldest first, rooms apart', () => {
  const h = openHistory(':memory:')
  for (let i = 1; i <= 130; i++) h.add(msg('lobby', i))
  h.add(msg('dev', 1))
  const lobby = h.recent('lobby')
  assert.equal(lobby.length, 100)
  assert.equal(lobby[0]!.text, 'm31')
  assert.equal(lobby[99]!.text, 'm130')
  assert.deepEqual(h.recent('dev').map((m) => m.text), ['m1'])
  assert.deepEqual(h.recent('empty'), [])
})

test('a repeated id is stored once; history survives reopening the file', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dx-chat-')), 'sub', 'chat.db')
  const h = openHistory(file)
  assert.equal(h.add(msg('lobby', 1)), true)
  assert.equal(h.add(msg('lobby', 1)), false)
  h.close()
  assert.deepEqual(openHistory(file).recent('lobby').map((m) => m.id), ['lobby-1'])
})
