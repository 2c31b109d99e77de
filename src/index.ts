export { startLockstep, type Lockstep, type LockstepConfig } from './server/app.js';
export { ServiceError } from './errors.js';
