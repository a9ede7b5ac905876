// Locks beside the engine: NLM v4 through the server's lock manager (lock-manager.ts), the
// process's grant callback service (grant-service.ts), and this host's status (nsm.ts).
export { LockManager, F_RDLCK, F_WRLCK, F_UNLCK, type LockArgs, type LockInfo, type LockManagerOptions, type LockStats } from './lock-manager.js'
export { TO_EOF } from './held-locks.js'
export { LockInterruptedError, LockRequestError } from './errors.js'
export { hostStatus, rememberServer, type HostStatus } from './nsm.js'
