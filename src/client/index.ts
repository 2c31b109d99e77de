export { CredentialRefresher, isAuthFailure, withCredentialRefresh, type CredentialsSource, type RefresherOptions, type VersionedCredentials } from './refresh.js';
