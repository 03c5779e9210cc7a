import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBus, matches, memoryBus, subjectError, waitConnected } from '../src/index.js'
import { needsNats } from '@dx/testkit'
import { busContract, quiet, runPrefix } from './contract.js'

test('subjects match NATS-style: * is one token, a final > is the rest', () => {
  assert.ok(matches('dx.chat.lobby', 'dx.chat.lobby'))
  assert.ok(!matches('dx.chat.lobby', 'dx.chat.other'))
  assert.ok(matches('dx.chat.*', 'dx.chat.lobby'))
  assert.ok(!matches('dx.chat.*', 'dx.chat.lobby.x'))
  assert.ok(matches('dx.>', 'dx.chat.lobby'))
  assert.ok(!matches('dx.chat.>', 'dx.chat'))
  assert.ok(!matches('dx.chat', 'dx.chat.lobby'))
})

test('bad subjects are refused with a message', () => {
  assert.match(subjectError('')!, /non-empty/)
  assert.match(subjectError('dx..x')!, /token 2/)
  assert.match(subjectError('dx.*')!, /token 2/)
  assert.equal(subjectError('dx.*.>', true), null)
  assert.match(subjectError('dx.>.x', true)!, /token 2/)
})

busContract('memory', async (onError) => memoryBus(onError))

const NATS = process.env.DX_TEST_NATS_URL
busContract(
  'NATS',
  async (onError) => {
    const bus = createBus({ url: NATS, log: quiet, prefix: runPrefix(), onError })
    assert.ok(await waitConnected(bus, 5000), `no NATS at ${NATS}`)
    return bus
  },
  needsNats() || undefined,
)
