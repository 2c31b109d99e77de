import { ServiceError } from '../../errors.js';
import { checkPolicy, findings, isPublic } from '../../policy/index.js';
import { type ServiceContext, requireLiveSecret, requireSecret } from '../context.js';

/** AWS's words when BlockPublicPolicy refuses a policy. */
export const PUBLIC_POLICY_MESSAGE =
  'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.';

function malformed(problems: string[]): ServiceError {
  return new ServiceError('MalformedPolicyDocumentException', `This resource policy contains a syntax error: ${problems.slice(0, 3).join('; ')}`);
}

/** PutResourcePolicy: checked, refused when public and BlockPublicPolicy is on, stored as given. */
export async function putResourcePolicy(ctx: ServiceContext, input: Record<string, any>) {
  const text = input.ResourcePolicy as string;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed(['the document is not valid JSON']);
  }
  const { policy, problems } = checkPolicy(doc, { kind: 'resource' });
  if (!policy) throw malformed(problems);
  if (input.BlockPublicPolicy === true && isPublic(policy)) throw new ServiceError('PublicPolicyException', PUBLIC_POLICY_MESSAGE);
  return ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    await tx.secrets.updateSecret(s.id, { resourcePolicy: text, lastChangedMs: ctx.now() });
    return { ARN: s.arn, Name: s.name };
  });
}

/** GetResourcePolicy: the policy as it was put, or no ResourcePolicy member. */
export async function getResourcePolicy(ctx: ServiceContext, input: Record<string, any>) {
  return ctx.store.read(async (tx) => {
    const s = await requireSecret(ctx, tx, input.SecretId);
    return { ARN: s.arn, Name: s.name, ...(s.resourcePolicy ? { ResourcePolicy: s.resourcePolicy } : {}) };
  });
}

/** DeleteResourcePolicy. */
export async function deleteResourcePolicy(ctx: ServiceContext, input: Record<string, any>) {
  return ctx.store.transaction(async (tx) => {
    const s = await requireLiveSecret(ctx, tx, input.SecretId);
    await tx.secrets.updateSecret(s.id, { resourcePolicy: null, lastChangedMs: ctx.now() });
    return { ARN: s.arn, Name: s.name };
  });
}

/** ValidateResourcePolicy: syntax, public access and the other findings, as ValidationErrors. */
export async function validateResourcePolicy(ctx: ServiceContext, input: Record<string, any>) {
  let resourceArn: string | undefined;
  if (typeof input.SecretId === 'string') {
    resourceArn = await ctx.store.read(async (tx) => (await requireSecret(ctx, tx, input.SecretId)).arn);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(input.ResourcePolicy as string);
  } catch {
    throw malformed(['the document is not valid JSON']);
  }
  const errors = findings(doc, { resourceArn }).filter((f) => f.severity === 'error' || f.severity === 'warning');
  return {
    PolicyValidationPassed: !errors.some((f) => f.severity === 'error'),
    ValidationErrors: errors.map((f) => ({ CheckName: f.checkName, ErrorMessage: f.message })),
  };
}
