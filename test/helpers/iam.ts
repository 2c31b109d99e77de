import { request } from 'node:http';
import { sdkSigner } from './raw.js';

/** An access key pair, with a session token for temporary credentials. */
export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One IAM or STS Query call (form-encoded, SigV4 for the service); the XML answer, which must be 200. */
export async function query(endpoint: string, creds: Keys, service: 'iam' | 'sts', params: Record<string, string>): Promise<string> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ Version: service === 'iam' ? '2010-05-08' : '2011-06-15', ...params }).toString();
  const signed = await sdkSigner({ credentials: creds, region: 'us-east-1', service }).sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
  });
  // The signer adds and signs X-Amz-Security-Token for temporary credentials.
  const headers = { ...(signed.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(body)) };
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: Number(url.port), method: 'POST', path: '/', headers }, (res) => {
      let t = '';
      res.setEncoding('utf8').on('data', (c: string) => (t += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on('error', reject);
    req.end(body);
  });
  if (status !== 200) throw new Error(`${service} ${params.Action}: ${status} ${text}`);
  return text;
}

/** The text of the first XML element of that name. */
export const xmlTag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** Creates a user with inline policies (name → JSON) and one access key; the key. */
export async function userWithPolicies(endpoint: string, root: Keys, name: string, policies: Record<string, unknown> = {}): Promise<Keys> {
  await query(endpoint, root, 'iam', { Action: 'CreateUser', UserName: name });
  for (const [p, doc] of Object.entries(policies)) {
    await query(endpoint, root, 'iam', { Action: 'PutUserPolicy', UserName: name, PolicyName: p, PolicyDocument: typeof doc === 'string' ? doc : JSON.stringify(doc) });
  }
  const xml = await query(endpoint, root, 'iam', { Action: 'CreateAccessKey', UserName: name });
  return { accessKeyId: xmlTag(xml, 'AccessKeyId')!, secretAccessKey: xmlTag(xml, 'SecretAccessKey')! };
}

/** AssumeRole as `creds`; the temporary credentials. */
export async function assumeRole(endpoint: string, creds: Keys, roleArn: string, session: string): Promise<Keys> {
  const xml = await query(endpoint, creds, 'sts', { Action: 'AssumeRole', RoleArn: roleArn, RoleSessionName: session });
  return { accessKeyId: xmlTag(xml, 'AccessKeyId')!, secretAccessKey: xmlTag(xml, 'SecretAccessKey')!, sessionToken: xmlTag(xml, 'SessionToken')! };
}

/** The trust policy of a Lambda execution role: lambda.amazonaws.com may assume it. */
export const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** Every Secrets Manager action on every secret: the policy of tests that are not about permissions. */
export const ALL_SECRETS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }],
};

/**
 * Creates a role that Lambda may assume (LAMBDA_TRUST) with inline policies (name → JSON); its ARN.
 * A function created with it runs with short-lived keys of that role.
 */
export async function executionRole(endpoint: string, root: Keys, name: string, policies: Record<string, unknown> = { secrets: ALL_SECRETS }): Promise<string> {
  const xml = await query(endpoint, root, 'iam', { Action: 'CreateRole', RoleName: name, AssumeRolePolicyDocument: JSON.stringify(LAMBDA_TRUST) });
  for (const [p, doc] of Object.entries(policies)) {
    await query(endpoint, root, 'iam', { Action: 'PutRolePolicy', RoleName: name, PolicyName: p, PolicyDocument: typeof doc === 'string' ? doc : JSON.stringify(doc) });
  }
  return xmlTag(xml, 'Arn')!;
}
