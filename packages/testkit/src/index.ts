export { root, freePort, sleep, waitForOk, Proc, startProc, type ProcOptions } from './procs.js'
export { startSystem, type System, type ServiceName } from './system.js'
export { quantile, cpuMs } from './stats.js'
export { FakeHn, startFakeHn, fakeStory, type FakeItem } from './fake-hn.js'
