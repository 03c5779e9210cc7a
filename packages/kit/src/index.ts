export { createService, type Service, type ServiceOptions } from './service.js'
export { hxTrigger, type EventMap } from './hx.js'
export { parseTrigger, eventsOf, TRIGGER_HEADERS, type HxEvent } from './hx-trigger.js'
export { logger, flushLogs, type Logger, type AppLogger, type Bindings } from './log.js'
export {
  sign,
  verify,
  envelopeError,
  replayError,
  relayError,
  makeEnvelope,
  gatewayMark,
  GATEWAY_MARK_HEADER,
  validActor,
  validClient,
  SeenIds,
  EVENT_NAME,
  MAX_DETAIL_BYTES,
  REPLAY_WINDOW_MS,
  type Envelope,
} from './events.js'
export { DeliveryQueue, retryDelays, type DeliveryOptions } from './delivery.js'
export { contentSecurityPolicy, securityHeaders, crossSiteRefusal, originAllowed, originList, type CrossSiteInput } from './security.js'
export { allowedOrigins, gatewayUrl } from './origins.js'
export { stripBidi } from './text.js'
export { tryWrite } from './writes.js'
export { ACTOR_COOKIE, CLIENT_HEADER } from './publish.js'
export { drainServer } from './drain.js'
export type { StoreOptions } from './store-options.js'
