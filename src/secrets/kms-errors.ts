import { randomUUID } from 'node:crypto';
import { ServiceError } from '../errors.js';

/*
 * Errors about encryption keys, worded as AWS words them. A value under a disabled key fails as
 * Secrets Manager reports KMS's DisabledException (recorded in AWS's GovCloud guide):
 *   DecryptionFailure: Secrets Manager can't decrypt the secret value: arn:aws:kms:...:key/<id> is
 *   disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException; Request ID: ...; Proxy: null)
 * Sealing under a disabled key is the same failure on the other side (EncryptionFailure). A KmsKeyId
 * that names nothing has no recorded AWS answer: ResourceNotFoundException, with KMS's own texts
 * ("Key '<arn>' does not exist", "Alias <arn> is not found.").
 */

function kmsSuffix(code: string): string {
  return ` (Service: AWSKMS; Status Code: 400; Error Code: ${code}; Request ID: ${randomUUID()}; Proxy: null)`;
}

/** KMS's message for a key id or ARN that names no key. */
export function keyMissing(keyArn: string): string {
  return `Key '${keyArn}' does not exist`;
}

/** KMS's message for an alias that points nowhere. */
export function aliasMissing(aliasArn: string): string {
  return `Alias ${aliasArn} is not found.`;
}

/** Constructors of the key-related errors. */
export const KmsErrors = {
  /** Reading a value whose key is disabled. */
  disabledForDecrypt: (keyArn: string) =>
    new ServiceError('DecryptionFailure', `Secrets Manager can't decrypt the secret value: ${keyArn} is disabled.${kmsSuffix('DisabledException')}`),
  /** Writing a value (or choosing a key) when the key is disabled. */
  disabledForEncrypt: (keyArn: string) =>
    new ServiceError('EncryptionFailure', `Secrets Manager can't encrypt the secret value: ${keyArn} is disabled.${kmsSuffix('DisabledException')}`),
  /** Writing a value of a secret whose key (or alias) no longer exists. */
  missingForEncrypt: (kmsMessage: string) =>
    new ServiceError('EncryptionFailure', `Secrets Manager can't encrypt the secret value: ${kmsMessage}${kmsSuffix('NotFoundException')}`),
  /** A KmsKeyId parameter that names no key or alias. */
  notFound: (kmsMessage: string) => new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified KMS key: ${kmsMessage}`),
  /** A KmsKeyId parameter that is no key id, key ARN, alias name or alias ARN. */
  invalidKeyId: (ref: string) =>
    new ServiceError(
      'InvalidParameterException',
      `Invalid KmsKeyId ${JSON.stringify(ref)}: give a key ID, a key ARN, an alias name (alias/...) or an alias ARN.`,
    ),
};
