export { createService, type Service, type ServiceOptions } from './service.js'
export { hxTrigger, type EventMap } from './hx.js'
export { logger, type Logger } from './log.js'
export { sign, verify, envelopeError, SeenIds, type Envelope } from './events.js'
