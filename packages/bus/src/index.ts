export { type Bus, type BusLogger, type BusState, type BusStatus, type Handler, type SubscribeOptions, matches, queueError, subjectError, waitConnected } from './bus.js'
export { memoryBus } from './memory.js'
export { natsBus, BusFullError, type NatsBusOptions } from './nats.js'
export { createBus, natsServers, BusConfigError, type CreateBusOptions } from './create.js'
