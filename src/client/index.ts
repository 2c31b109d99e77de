export { CredentialRefresher, isAuthFailure, withCredentialRefresh, type CredentialsSource, type RefresherOptions, type VersionedCredentials } from './refresh.js';
export { SecretCache, type CachedSecret, type SecretCacheOptions, type SecretCacheStats, type SecretSelector } from './cache.js';
export { subscribeEvents, type EventSubscription, type EventSubscriptionOptions, type LockstepEvent } from './events.js';
export { createMysqlPool, createPgPool, type DatabaseSecret, type MysqlPoolOptions, type PgPoolOptions, type RotatingMysqlPool, type RotatingPgPool, type RotatingPoolOptions, type RotatingPoolStats } from './pools.js';
