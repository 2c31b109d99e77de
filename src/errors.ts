/** Which side of the wire caused an error: the caller (4xx) or the server (5xx). */
export type FaultSide = 'client' | 'server';

/** The one error type of the service: an AWS error code, its message, HTTP status and fault side. */
export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: FaultSide;

  constructor(code: string, message: string, status = 400, fault: FaultSide = status >= 500 ? 'server' : 'client') {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.status = status;
    this.fault = fault;
  }
}

/** True when the value is a ServiceError. */
export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof ServiceError;
}

/** Messages recorded from real AWS, kept in one place so every handler says the same thing. */
export const Messages = {
  secretNotFound: "Secrets Manager can't find the specified secret.",
  versionNotFoundForStage: (stage: string) =>
    `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
  versionNotFoundForId: (id: string) => `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
  stageNotOnVersion: 'You provided a VersionStage that is not associated to the provided VersionId.',
  markedForDeletion: "You can't perform this operation on the secret because it was marked for deletion.",
  scheduledForDeletion: "You can't create this secret because a secret with this name is already scheduled for deletion.",
  secretExists: (name: string) => `The operation failed because the secret ${name} already exists.`,
  invalidName: 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
  tokenRequired: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.',
} as const;

/** Constructors for the errors the service raises. */
export const Errors = {
  notFound: (message: string = Messages.secretNotFound) => new ServiceError('ResourceNotFoundException', message),
  invalidRequest: (message: string) => new ServiceError('InvalidRequestException', message),
  invalidParameter: (message: string) => new ServiceError('InvalidParameterException', message),
  validation: (message: string) => new ServiceError('ValidationException', message),
  resourceExists: (message: string) => new ServiceError('ResourceExistsException', message),
  limitExceeded: (message: string) => new ServiceError('LimitExceededException', message),
  invalidNextToken: (message = 'The NextToken value is invalid.') => new ServiceError('InvalidNextTokenException', message),
  decryptionFailure: (
    message = "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
  ) => new ServiceError('DecryptionFailure', message),
  encryptionFailure: (message = "Secrets Manager can't encrypt the protected secret text.") =>
    new ServiceError('EncryptionFailure', message),
  serialization: (message: string) => new ServiceError('SerializationException', message),
  unknownOperation: (message = 'The action or operation requested is invalid. Verify that the action is typed correctly.') =>
    new ServiceError('UnknownOperationException', message),
  internal: (message = 'An error occurred on the server side.') => new ServiceError('InternalServiceError', message, 500),
};
