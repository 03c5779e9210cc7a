export type { BusView, ReplicaStatus, ServiceStatus, StatusSnapshot } from './snapshot.js'
export { statusRoutes } from './routes.js'
export { statusPage, statusFragment, serviceHealth, FRAGMENT_PATH } from './page.js'
export { buildSnapshot, busLabel, type RegistryReplica, type RegistryView, type SnapshotSources } from './build.js'
