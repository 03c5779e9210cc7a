export { type Bus, type Handler, matches, subjectError } from './bus.js'
export { memoryBus } from './memory.js'
