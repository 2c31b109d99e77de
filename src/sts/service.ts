import type { QueryOperation } from '../iam/operation.js';
import { assumeRole } from './assume-role.js';
import { getCallerIdentity } from './caller-identity.js';

/** The STS API version the operations answer to. */
export const STS_VERSION = '2011-06-15';
/** The XML namespace of STS's responses. */
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** The STS operations Lockstep serves; every authenticated principal may call them. */
export const stsOperations: Readonly<Record<string, QueryOperation>> = {
  GetCallerIdentity: getCallerIdentity,
  AssumeRole: assumeRole,
};
