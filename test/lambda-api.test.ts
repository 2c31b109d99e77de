import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { strToU8 } from 'fflate';
import {
  AddPermissionCommand, CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, GetFunctionConfigurationCommand,
  GetPolicyCommand, LambdaClient, ListFunctionsCommand, RemovePermissionCommand, UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand, type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { type TestServer } from './helpers/server.js';
import { useLambdaServer, zipOf } from './helpers/functions.js';
import { rejects } from './helpers/sdk.js';
import { sdkSigner } from './helpers/raw.js';

/*
 * The Lambda-compatible API through the JS SDK v3: function CRUD, every validation error, resource
 * policies, and Lambda's error shape on the wire.
 */

const ROLE = 'arn:aws:iam::123456789012:role/rotation';
const PY = 'def handler(event, context):\n    return {"ok": True}\n';

let srv: TestServer;
let lambda: LambdaClient;
let seq = 0;
const fresh = (p = 'fn') => `${p}-${++seq}`;

function createInput(over: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return {
    FunctionName: fresh(),
    Runtime: 'python3.12',
    Role: ROLE,
    Handler: 'app.handler',
    Code: { ZipFile: zipOf({ 'app.py': PY }) },
    ...over,
  };
}

/** A raw SigV4-signed request to the Lambda API: status, headers and body as sent on the wire. */
async function raw(method: string, path: string, body = '', creds = srv.credentials) {
  const url = new URL(srv.endpoint);
  const signed = await sdkSigner({ credentials: creds, region: srv.region, service: 'lambda' }).sign({
    method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path,
    headers: { host: url.host, 'content-type': 'application/json' }, body,
  });
  const res = await fetch(srv.endpoint + path, { method, headers: signed.headers as Record<string, string>, body: body || undefined });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

useLambdaServer((s) => ({ srv, lambda } = s), { executionRole: 'rotation' });

describe('function CRUD', () => {
  test('CreateFunction answers the configuration, CodeSha256 as Lambda computes it', async () => {
    const zip = zipOf({ 'app.py': PY });
    const name = fresh('create');
    const out = await lambda.send(new CreateFunctionCommand(createInput({ FunctionName: name, Code: { ZipFile: zip }, MemorySize: 256, Description: 'd' })));
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.equal(out.FunctionName, name);
    assert.equal(out.FunctionArn, `arn:aws:lambda:us-east-1:123456789012:function:${name}`);
    assert.equal(out.Runtime, 'python3.12');
    assert.equal(out.Handler, 'app.handler');
    assert.equal(out.Role, ROLE);
    assert.equal(out.Timeout, 3);
    assert.equal(out.MemorySize, 256);
    assert.equal(out.Description, 'd');
    assert.equal(out.CodeSize, zip.length);
    assert.equal(out.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.equal(out.Version, '$LATEST');
    assert.equal(out.State, 'Active');
    assert.equal(out.PackageType, 'Zip');
    assert.match(out.LastModified!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.match(out.RevisionId!, /^[0-9a-f-]{36}$/);
    assert.equal(out.Environment, undefined);
  });

  test('GetFunction by name, ARN, partial ARN and $LATEST; GetFunctionConfiguration', async () => {
    const name = fresh('get');
    await lambda.send(new CreateFunctionCommand(createInput({ FunctionName: name, Environment: { Variables: { AB: 'b' } } })));
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    for (const id of [name, arn, `123456789012:function:${name}`, `${name}:$LATEST`, `${arn}:$LATEST`]) {
      const got = await lambda.send(new GetFunctionCommand({ FunctionName: id }));
      assert.equal(got.Configuration?.FunctionName, name, id);
      assert.deepEqual(got.Configuration?.Environment?.Variables, { AB: 'b' });
    }
    const conf = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: arn }));
    assert.equal(conf.FunctionArn, arn);
    await rejects(lambda.send(new GetFunctionCommand({ FunctionName: `${name}:7` })), 'ResourceNotFoundException', `Function not found: ${arn}:7`, 404);
    await rejects(
      lambda.send(new GetFunctionCommand({ FunctionName: `arn:aws:lambda:eu-west-1:123456789012:function:${name}` })),
      'ResourceNotFoundException', `Function not found: arn:aws:lambda:eu-west-1:123456789012:function:${name}`, 404,
    );
  });

  test('ListFunctions pages with MaxItems and NextMarker', async () => {
    for (let i = 0; i < 3; i++) await lambda.send(new CreateFunctionCommand(createInput({ FunctionName: `list-${i}` })));
    const names: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker }));
      names.push(...page.Functions!.map((f) => f.FunctionName!));
      Marker = page.NextMarker;
      pages++;
    } while (Marker);
    assert.ok(pages >= 2);
    assert.deepEqual(names.filter((n) => n.startsWith('list-')), ['list-0', 'list-1', 'list-2']);
    assert.deepEqual([...names].sort(), names);
    await rejects(lambda.send(new ListFunctionsCommand({ MaxItems: 0 })), 'InvalidParameterValueException', /maxItems/, 400);
  });

  test('UpdateFunctionCode replaces the zip, checks RevisionId, and keeps the handler present', async () => {
    const created = await lambda.send(new CreateFunctionCommand(createInput()));
    const name = created.FunctionName!;
    const zip = zipOf({ 'app.py': PY + '# v2\n' });
    await rejects(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, RevisionId: '00000000-0000-0000-0000-000000000000' })),
      'PreconditionFailedException', /Revision Id provided does not match/, 412,
    );
    const dry = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, DryRun: true }));
    assert.equal(dry.RevisionId, created.RevisionId);
    const out = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, RevisionId: created.RevisionId }));
    assert.equal(out.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.notEqual(out.RevisionId, created.RevisionId);
    await rejects(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zipOf({ 'other.py': PY }) })),
      'InvalidParameterValueException', /handler 'app\.handler'.*no app\.py or app\/__init__\.py/, 400,
    );
  });

  test('UpdateFunctionConfiguration changes timeout, memory, description, handler and environment', async () => {
    const created = await lambda.send(new CreateFunctionCommand(createInput({ Code: { ZipFile: zipOf({ 'app.py': PY, 'other.py': PY }) } })));
    const name = created.FunctionName!;
    const out = await lambda.send(new UpdateFunctionConfigurationCommand({
      FunctionName: name, Timeout: 30, MemorySize: 512, Description: 'new', Handler: 'other.handler',
      Environment: { Variables: { KEY: 'value' } }, Runtime: 'python3.11',
    }));
    assert.equal(out.Timeout, 30);
    assert.equal(out.MemorySize, 512);
    assert.equal(out.Description, 'new');
    assert.equal(out.Handler, 'other.handler');
    assert.equal(out.Runtime, 'python3.11');
    assert.deepEqual(out.Environment?.Variables, { KEY: 'value' });
    const cleared = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: {} } }));
    assert.equal(cleared.Environment, undefined);
    await rejects(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Handler: 'missing.handler' })),
      'InvalidParameterValueException', /no missing\.py/, 400,
    );
    await rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 901 })), 'InvalidParameterValueException', /less than or equal to 900/, 400);
    await rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'nope', Timeout: 5 })), 'ResourceNotFoundException', /Function not found/, 404);
  });

  test('DeleteFunction, then the function is gone', async () => {
    const { FunctionName: name } = await lambda.send(new CreateFunctionCommand(createInput()));
    const del = await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    await rejects(lambda.send(new GetFunctionCommand({ FunctionName: name })), 'ResourceNotFoundException', `Function not found: ${arn}`, 404);
    await rejects(lambda.send(new DeleteFunctionCommand({ FunctionName: name })), 'ResourceNotFoundException', `Function not found: ${arn}`, 404);
  });

  test('a second CreateFunction of a name is ResourceConflictException', async () => {
    const input = createInput();
    await lambda.send(new CreateFunctionCommand(input));
    await rejects(lambda.send(new CreateFunctionCommand(input)), 'ResourceConflictException', `Function already exist: ${input.FunctionName}`, 409);
  });

  test('node handlers may live in .js, .mjs or .cjs, python ones in packages', async () => {
    for (const [runtime, handler, file] of [
      ['nodejs18.x', 'index.handler', 'index.js'], ['nodejs20.x', 'src/app.main', 'src/app.mjs'], ['nodejs22.x', 'lib.handler', 'lib.cjs'],
      ['python3.8', 'pkg.mod.handler', 'pkg/mod.py'], ['python3.13', 'pkg/mod.handler', 'pkg/mod.py'], ['python3.10', 'pkg.handler', 'pkg/__init__.py'],
    ]) {
      const out = await lambda.send(new CreateFunctionCommand(createInput({ Runtime: runtime as 'python3.12', Handler: handler, Code: { ZipFile: zipOf({ [file]: '' }) } })));
      assert.equal(out.Handler, handler);
    }
  });
});

describe('CreateFunction validation', () => {
  const bad = (over: Partial<CreateFunctionCommandInput>, code: string, message: RegExp | string, status = 400) =>
    rejects(lambda.send(new CreateFunctionCommand(createInput(over))), code, message, status);

  test('function names', async () => {
    await bad({ FunctionName: 'bad name' }, 'InvalidParameterValueException', /at 'functionName' failed to satisfy constraint/);
    await bad({ FunctionName: 'x'.repeat(65) }, 'InvalidParameterValueException', /64/);
  });
  test('runtimes outside the supported list name the supported ones', async () => {
    for (const runtime of ['java21', 'python2.7', 'nodejs16.x', 'provided.al2023']) {
      await bad({ Runtime: runtime as 'python3.12' }, 'InvalidParameterValueException',
        `The runtime parameter of ${runtime} is not supported by Lockstep. Supported runtimes: python3.8, python3.9, python3.10, python3.11, python3.12, python3.13, nodejs18.x, nodejs20.x, nodejs22.x.`);
    }
    await bad({ Runtime: undefined }, 'InvalidParameterValueException', /Runtime is required/);
  });
  test('handler, role, timeout, memory, description', async () => {
    await bad({ Handler: undefined }, 'InvalidParameterValueException', 'Handler is required for a zip function.');
    await bad({ Handler: 'nodot' }, 'InvalidParameterValueException', /not valid for python3\.12: it must have the form module\.function/);
    await bad({ Role: undefined }, 'InvalidParameterValueException', /Role is required/);
    await bad({ Role: 'not-an-arn' }, 'InvalidParameterValueException', /at 'role' failed to satisfy constraint/);
    await bad({ Timeout: 0 }, 'InvalidParameterValueException', /Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1/);
    await bad({ Timeout: 901 }, 'InvalidParameterValueException', /Member must have value less than or equal to 900/);
    await bad({ MemorySize: 64 }, 'InvalidParameterValueException', /at 'memorySize'/);
    await bad({ Description: 'x'.repeat(257) }, 'InvalidParameterValueException', /at 'description'/);
    const ok = await lambda.send(new CreateFunctionCommand(createInput({ Timeout: 900, MemorySize: 10240 })));
    assert.equal(ok.Timeout, 900);
  });
  test('zips: handler missing, not a zip, entries escaping the root, absolute paths', async () => {
    await bad({ Code: { ZipFile: zipOf({ 'other.py': PY, 'README.md': 'x' }) } }, 'InvalidParameterValueException',
      "The handler 'app.handler' names the module 'app', but the zip has no app.py or app/__init__.py at the path the handler gives (relative to the zip root). The zip holds: README.md, other.py.");
    await bad({ Runtime: 'nodejs20.x', Handler: 'index.handler' }, 'InvalidParameterValueException', /no index\.js or index\.mjs or index\.cjs/);
    await bad({ Code: { ZipFile: strToU8('this is not a zip') } }, 'InvalidParameterValueException',
      'Could not unzip uploaded file. Please check your file, then try to upload again.');
    await bad({ Code: { ZipFile: zipOf({ 'app.py': PY, '../evil.py': 'x' }) } }, 'InvalidParameterValueException',
      "The zip entry '../evil.py' has a '..' path segment; entries must stay inside the zip root.");
    await bad({ Code: { ZipFile: zipOf({ 'app.py': PY, 'lib/../../evil.py': 'x' }) } }, 'InvalidParameterValueException', /'\.\.' path segment/);
    await bad({ Code: { ZipFile: zipOf({ 'app.py': PY, '/etc/evil': 'x' }) } }, 'InvalidParameterValueException', /absolute path/);
    await bad({ Code: {} }, 'InvalidParameterValueException', /Code\.ZipFile is required/);
    await bad({ Code: { S3Bucket: 'b', S3Key: 'k' } }, 'InvalidParameterValueException', /does not support Code\.S3Bucket/);
  });
  test('a zip whose central directory declares more than 250 MB is refused before inflating', async () => {
    const zip = zipOf({ 'app.py': PY, 'big.bin': 'x' });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let i = 0; i + 4 <= zip.length; i++) {
      // central directory headers: set the uncompressed size of every entry to 200 MB
      if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, 200 * 1024 * 1024, true);
    }
    await bad({ Code: { ZipFile: zip } }, 'InvalidParameterValueException', 'Unzipped size must be smaller than 262144000 bytes');
  });
  test('environment variables: reserved keys, key pattern, 4 KB', async () => {
    await bad({ Environment: { Variables: { AWS_REGION: 'x', LAMBDA_TASK_ROOT: 'y' } } }, 'InvalidParameterValueException',
      /reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT/);
    await bad({ Environment: { Variables: { '1BAD': 'x' } } }, 'InvalidParameterValueException', /environment\.variables/);
    await bad({ Environment: { Variables: { BIG: 'x'.repeat(5000) } } }, 'InvalidParameterValueException', /exceeded the 4KB limit/);
  });
});

describe('resource policies', () => {
  test('AddPermission, GetPolicy, RemovePermission round trip', async () => {
    const { FunctionName: name, FunctionArn: arn } = await lambda.send(new CreateFunctionCommand(createInput()));
    await rejects(lambda.send(new GetPolicyCommand({ FunctionName: name })), 'ResourceNotFoundException', 'The resource you requested does not exist.', 404);
    const added = await lambda.send(new AddPermissionCommand({
      FunctionName: name, StatementId: 'sm', Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: '123456789012', SourceArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*',
    }));
    assert.equal(added.$metadata.httpStatusCode, 201);
    const statement = JSON.parse(added.Statement!);
    assert.deepEqual(statement, {
      Sid: 'sm', Effect: 'Allow', Principal: { Service: 'secretsmanager.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: arn,
      Condition: {
        StringEquals: { 'AWS:SourceAccount': '123456789012' },
        ArnLike: { 'AWS:SourceArn': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*' },
      },
    });
    await lambda.send(new AddPermissionCommand({ FunctionName: arn, StatementId: 'acct', Action: 'lambda:*', Principal: '111122223333' }));
    const got = await lambda.send(new GetPolicyCommand({ FunctionName: name }));
    const policy = JSON.parse(got.Policy!);
    assert.equal(policy.Version, '2012-10-17');
    assert.equal(policy.Id, 'default');
    assert.deepEqual(policy.Statement.map((s: { Sid: string }) => s.Sid), ['sm', 'acct']);
    assert.deepEqual(policy.Statement[1].Principal, { AWS: 'arn:aws:iam::111122223333:root' });
    const conf = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    assert.equal(got.RevisionId, conf.RevisionId);

    await rejects(
      lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: 'sm', Action: 'lambda:InvokeFunction', Principal: '*' })),
      'ResourceConflictException',
      'The statement id (sid) provided already exists. Please provide a new statement id, or remove the existing statement.', 409,
    );
    await rejects(
      lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: 'not a principal' })),
      'InvalidParameterValueException', /at 'principal'/, 400,
    );
    await rejects(
      lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: 'x', Action: 'sts:AssumeRole', Principal: '*' })),
      'InvalidParameterValueException', /at 'action'/, 400,
    );
    await rejects(
      lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: '*', RevisionId: 'stale' })),
      'PreconditionFailedException', /Revision Id/, 412,
    );
    await rejects(lambda.send(new RemovePermissionCommand({ FunctionName: name, StatementId: 'nope' })), 'ResourceNotFoundException',
      'Statement nope is not found in resource policy.', 404);
    const removed = await lambda.send(new RemovePermissionCommand({ FunctionName: name, StatementId: 'sm' }));
    assert.equal(removed.$metadata.httpStatusCode, 204);
    await lambda.send(new RemovePermissionCommand({ FunctionName: name, StatementId: 'acct' }));
    await rejects(lambda.send(new GetPolicyCommand({ FunctionName: name })), 'ResourceNotFoundException', 'The resource you requested does not exist.', 404);
    await rejects(lambda.send(new AddPermissionCommand({ FunctionName: 'missing', StatementId: 'a', Action: 'lambda:*', Principal: '*' })),
      'ResourceNotFoundException', /Function not found/, 404);
  });
});

describe('the wire', () => {
  test("errors carry x-amzn-ErrorType and Lambda's body", async () => {
    const r = await raw('GET', '/2015-03-31/functions/does-not-exist');
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
    assert.ok(r.headers.get('x-amzn-requestid'));
    assert.deepEqual(JSON.parse(r.text), { Type: 'User', Message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:does-not-exist' });
    const c = await raw('POST', '/2015-03-31/functions', '{not json');
    assert.equal(c.status, 400);
    assert.equal(c.headers.get('x-amzn-errortype'), 'InvalidRequestContentException');
    assert.match(JSON.parse(c.text).message, /^Could not parse request body into json: /);
    assert.equal(JSON.parse(c.text).Type, 'User');
    const u = await raw('PATCH', '/2015-03-31/functions/x');
    assert.equal(u.status, 404);
    assert.equal(u.headers.get('x-amzn-errortype'), 'UnknownOperationException');
  });

  test('signature failures are 403 in the SDK and on the wire', async () => {
    const wrong = new LambdaClient({
      endpoint: srv.endpoint, region: srv.region, maxAttempts: 1,
      credentials: { accessKeyId: srv.credentials.accessKeyId, secretAccessKey: 'x' + srv.credentials.secretAccessKey.slice(1) },
    });
    try {
      await rejects(wrong.send(new ListFunctionsCommand({})), 'InvalidSignatureException', /The request signature we calculated does not match/, 403);
    } finally {
      wrong.destroy();
    }
    const r = await raw('GET', '/2015-03-31/functions', '', { accessKeyId: 'LKIAUNKNOWNKEY000000', secretAccessKey: 'x' });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
    assert.equal(JSON.parse(r.text).message, 'The security token included in the request is invalid.');
    const unsigned = await fetch(srv.endpoint + '/2015-03-31/functions');
    assert.equal(unsigned.status, 403);
  });
});
