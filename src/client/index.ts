export { CredentialRefresher, isAuthFailure, withCredentialRefresh, type RefresherOptions, type VersionedCredentials } from './refresh.js';
