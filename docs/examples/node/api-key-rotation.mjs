/**
 * Rotation function for a secret that holds an API key of an external service (Node.js 18+, ESM).
 *
 * The secret is a JSON object with an `api_key` field (other fields are kept as they are):
 *
 *   {"api_key": "lk_live_...", "client_id": "..."}
 *
 * Each rotation replaces the key for real:
 *
 *   createSecret  mints a new key at the service (POST /v1/api-keys, authenticated with the current
 *                 key) and stores the secret with the new key as AWSPENDING. Idempotent: if the
 *                 AWSPENDING version already has a value, nothing happens; the request carries the
 *                 rotation token as Idempotency-Key, so a retry after a lost response gets the same
 *                 key back instead of minting a second one.
 *   setSecret     nothing to do: the service registered the key when it minted it.
 *   testSecret    GET /v1/me with the pending key must answer 200.
 *   finishSecret  moves AWSCURRENT to the new version, then revokes the previous key
 *                 (DELETE /v1/api-keys/<old key>, authenticated with the new key). A retry after the
 *                 label moved revokes the key of AWSPREVIOUS; a key already revoked (404) is fine.
 *
 * Configuration (the function's Environment):
 *
 *   API_BASE_URL   the service, e.g. https://api.partner.example (required)
 *   HTTP_TIMEOUT   seconds per HTTP request (default 10)
 *
 * In Lockstep the function gets AWS_ENDPOINT_URL, the Region and credentials in its environment, so
 * `new SecretsManagerClient({})` reaches Lockstep with no configuration (on AWS it reaches AWS).
 * Handler: `api-key-rotation.handler`. The zip must contain node_modules/ with
 * @aws-sdk/client-secrets-manager and its dependencies (see docs/rotation.md).
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

const sm = new SecretsManagerClient({});

export async function handler(event) {
  const { SecretId: arn, ClientRequestToken: token, Step: step } = event;

  const metadata = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
  if (!metadata.RotationEnabled) throw new Error(`Secret ${arn} is not enabled for rotation`);
  const versions = metadata.VersionIdsToStages ?? {};
  if (!(token in versions)) throw new Error(`Secret version ${token} has no stage for rotation of secret ${arn}`);
  if (step !== 'finishSecret') {
    if (versions[token].includes('AWSCURRENT')) {
      console.log(`Secret version ${token} is already AWSCURRENT for ${arn}`);
      return;
    }
    if (!versions[token].includes('AWSPENDING')) {
      throw new Error(`Secret version ${token} is not AWSPENDING for rotation of secret ${arn}`);
    }
  }

  switch (step) {
    case 'createSecret':
      return createSecret(arn, token);
    case 'setSecret':
      return setSecret(arn, token);
    case 'testSecret':
      return testSecret(arn, token);
    case 'finishSecret':
      return finishSecret(arn, token, versions);
    default:
      throw new Error(`Unknown step: ${step}`);
  }
}

function baseUrl() {
  const url = process.env.API_BASE_URL;
  if (!url) throw new Error('API_BASE_URL is not set in the function environment');
  return url.replace(/\/+$/, '');
}

/** fetch with the configured timeout. */
function call(path, init = {}) {
  const seconds = Number(process.env.HTTP_TIMEOUT ?? '10');
  return fetch(`${baseUrl()}${path}`, { ...init, signal: AbortSignal.timeout(seconds * 1000) });
}

async function value(arn, selector) {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: arn, ...selector }));
  return JSON.parse(out.SecretString);
}

/** Mint a new key with the current one and store it as AWSPENDING. */
async function createSecret(arn, token) {
  try {
    await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' }));
    console.log(`createSecret: AWSPENDING already has a value for ${arn}`);
    return;
  } catch (e) {
    if (e.name !== 'ResourceNotFoundException') throw e;
  }

  const current = await value(arn, { VersionStage: 'AWSCURRENT' });
  const res = await call('/v1/api-keys', {
    method: 'POST',
    headers: { Authorization: `Bearer ${current.api_key}`, 'Idempotency-Key': token },
  });
  // Never put the response body in the error: it may echo a key.
  if (res.status !== 200 && res.status !== 201) throw new Error(`createSecret: minting a new API key failed with HTTP ${res.status}`);
  const { api_key: newKey } = await res.json();

  await sm.send(new PutSecretValueCommand({
    SecretId: arn,
    ClientRequestToken: token,
    SecretString: JSON.stringify({ ...current, api_key: newKey }),
    VersionStages: ['AWSPENDING'],
  }));
  console.log(`createSecret: stored a new API key as AWSPENDING for ${arn} (version ${token})`);
}

/** The service registered the key when it minted it: nothing to do. */
async function setSecret() {
  console.log('setSecret: nothing to do, the new key is registered at the service');
}

/** The pending key must authenticate. */
async function testSecret(arn, token) {
  const pending = await value(arn, { VersionId: token, VersionStage: 'AWSPENDING' });
  const res = await call('/v1/me', { headers: { Authorization: `Bearer ${pending.api_key}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`testSecret: the new API key was refused with HTTP ${res.status}`);
  console.log('testSecret: the new API key works');
}

/** Move AWSCURRENT to the new version, then revoke the previous key. */
async function finishSecret(arn, token, versions) {
  const versionWith = (label) => Object.keys(versions).find((v) => versions[v].includes(label));
  const currentVersion = versionWith('AWSCURRENT');
  let previousVersion;
  if (currentVersion !== token) {
    await sm.send(new UpdateSecretVersionStageCommand({
      SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: currentVersion,
    }));
    previousVersion = currentVersion;
    console.log(`finishSecret: version ${token} is now AWSCURRENT for ${arn}`);
  } else {
    // A retry: the label moved already, and AWSPREVIOUS holds the key to revoke.
    previousVersion = versionWith('AWSPREVIOUS');
  }
  if (previousVersion === undefined) return;

  const oldKey = (await value(arn, { VersionId: previousVersion })).api_key;
  const newKey = (await value(arn, { VersionId: token })).api_key;
  if (oldKey === newKey) return;
  const res = await call(`/v1/api-keys/${encodeURIComponent(oldKey)}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${newKey}` },
  });
  await res.arrayBuffer();
  if (res.status === 404) console.log('finishSecret: the previous key was already revoked');
  else if (res.status !== 200 && res.status !== 204) throw new Error(`finishSecret: revoking the previous API key failed with HTTP ${res.status}`);
  else console.log(`finishSecret: revoked the previous key (version ${previousVersion})`);
}
