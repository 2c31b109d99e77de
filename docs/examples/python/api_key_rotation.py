"""Rotation function for a secret that holds an API key of an external service.

The secret is a JSON object with an ``api_key`` field (other fields are kept as they are):

    {"api_key": "lk_live_...", "client_id": "..."}

Each rotation replaces the key for real:

  createSecret  mints a new key at the service (POST /v1/api-keys, authenticated with the current
                key) and stores the secret with the new key as AWSPENDING. Idempotent: if the
                AWSPENDING version already has a value, nothing happens; the request carries the
                rotation token as Idempotency-Key, so a retry after a lost response gets the same
                key back instead of minting a second one.
  setSecret     nothing to do: the service registered the key when it minted it.
  testSecret    GET /v1/me with the pending key must answer 200.
  finishSecret  moves AWSCURRENT to the new version, then revokes the previous key
                (DELETE /v1/api-keys/<old key>, authenticated with the new key). A retry after the
                label moved revokes the key of AWSPREVIOUS; a key that is already revoked (404) is fine.

Configuration (the function's Environment):

  API_BASE_URL   the service, e.g. https://api.partner.example (required)
  HTTP_TIMEOUT   seconds per HTTP request (default 10)

In Lockstep the function gets AWS_ENDPOINT_URL, the Region and credentials in its environment, so
``boto3.client('secretsmanager')`` reaches Lockstep with no configuration (on AWS it reaches AWS).
Handler: ``api_key_rotation.lambda_handler``. Needs boto3 and requests.
"""

import json
import logging
import os
import urllib.parse

import boto3
import requests

logger = logging.getLogger()
logger.setLevel(logging.INFO)

secrets = boto3.client('secretsmanager')


def lambda_handler(event, context):
    arn = event['SecretId']
    token = event['ClientRequestToken']
    step = event['Step']

    metadata = secrets.describe_secret(SecretId=arn)
    if not metadata.get('RotationEnabled'):
        raise ValueError(f'Secret {arn} is not enabled for rotation')
    versions = metadata.get('VersionIdsToStages', {})
    if token not in versions:
        raise ValueError(f'Secret version {token} has no stage for rotation of secret {arn}')
    if step != 'finishSecret':
        if 'AWSCURRENT' in versions[token]:
            logger.info('Secret version %s is already AWSCURRENT for %s', token, arn)
            return
        if 'AWSPENDING' not in versions[token]:
            raise ValueError(f'Secret version {token} is not AWSPENDING for rotation of secret {arn}')

    if step == 'createSecret':
        create_secret(arn, token)
    elif step == 'setSecret':
        set_secret(arn, token)
    elif step == 'testSecret':
        test_secret(arn, token)
    elif step == 'finishSecret':
        finish_secret(arn, token, versions)
    else:
        raise ValueError(f'Unknown step: {step}')


def _base_url():
    url = os.environ.get('API_BASE_URL')
    if not url:
        raise ValueError('API_BASE_URL is not set in the function environment')
    return url.rstrip('/')


def _timeout():
    return float(os.environ.get('HTTP_TIMEOUT', '10'))


def _value(arn, **selector):
    return json.loads(secrets.get_secret_value(SecretId=arn, **selector)['SecretString'])


def create_secret(arn, token):
    """Mint a new key with the current one and store it as AWSPENDING."""
    try:
        secrets.get_secret_value(SecretId=arn, VersionId=token, VersionStage='AWSPENDING')
        logger.info('createSecret: AWSPENDING already has a value for %s', arn)
        return
    except secrets.exceptions.ResourceNotFoundException:
        pass

    current = _value(arn, VersionStage='AWSCURRENT')
    response = requests.post(
        f'{_base_url()}/v1/api-keys',
        headers={'Authorization': f'Bearer {current["api_key"]}', 'Idempotency-Key': token},
        timeout=_timeout(),
    )
    if response.status_code not in (200, 201):
        # Never put the response body in the error: it may echo a key.
        raise RuntimeError(f'createSecret: minting a new API key failed with HTTP {response.status_code}')
    new_key = response.json()['api_key']

    pending = dict(current, api_key=new_key)
    secrets.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=['AWSPENDING'],
    )
    logger.info('createSecret: stored a new API key as AWSPENDING for %s (version %s)', arn, token)


def set_secret(arn, token):
    """The service registered the key when it minted it: nothing to do."""
    logger.info('setSecret: nothing to do, the new key is registered at the service')


def test_secret(arn, token):
    """The pending key must authenticate."""
    pending = _value(arn, VersionId=token, VersionStage='AWSPENDING')
    response = requests.get(
        f'{_base_url()}/v1/me',
        headers={'Authorization': f'Bearer {pending["api_key"]}'},
        timeout=_timeout(),
    )
    if response.status_code != 200:
        raise RuntimeError(f'testSecret: the new API key was refused with HTTP {response.status_code}')
    logger.info('testSecret: the new API key works')


def finish_secret(arn, token, versions):
    """Move AWSCURRENT to the new version, then revoke the previous key."""
    current_version = next((v for v, stages in versions.items() if 'AWSCURRENT' in stages), None)
    if current_version != token:
        secrets.update_secret_version_stage(
            SecretId=arn,
            VersionStage='AWSCURRENT',
            MoveToVersionId=token,
            RemoveFromVersionId=current_version,
        )
        previous_version = current_version
        logger.info('finishSecret: version %s is now AWSCURRENT for %s', token, arn)
    else:
        # A retry: the label moved already, and AWSPREVIOUS holds the key to revoke.
        previous_version = next((v for v, stages in versions.items() if 'AWSPREVIOUS' in stages), None)

    if previous_version is None:
        return
    old_key = _value(arn, VersionId=previous_version)['api_key']
    new_key = _value(arn, VersionId=token)['api_key']
    if old_key == new_key:
        return
    response = requests.delete(
        f'{_base_url()}/v1/api-keys/{urllib.parse.quote(old_key, safe="")}',
        headers={'Authorization': f'Bearer {new_key}'},
        timeout=_timeout(),
    )
    if response.status_code == 404:
        logger.info('finishSecret: the previous key was already revoked')
    elif response.status_code not in (200, 204):
        raise RuntimeError(f'finishSecret: revoking the previous API key failed with HTTP {response.status_code}')
    else:
        logger.info('finishSecret: revoked the previous key (version %s)', previous_version)
