import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { wholeNumber } from './options.js';
import { ConfigError, RANGES, parseAgentConfig, validPort, type AgentFileConfig } from '../agent/config.js';
import { DEFAULT_SSRF_ENV_VARIABLES, DEFAULT_SSRF_HEADERS, describeSource, resolveToken, TokenError, type ResolvedToken } from '../agent/token.js';
import type { Agent } from '../agent/server.js';

interface AgentCliOptions {
  port: number;
  host: string;
  endpoint?: string;
  region?: string;
  ttlSeconds: number;
  cacheSize: number;
  maxConnections: number;
  config?: string;
  profile?: string;
}

function portNumber(v: string): number {
  const n = Number(v);
  if (!validPort(n)) throw new Error('--port must be 0 (any free port) or a whole number from 1024 to 65535');
  return n;
}

/** Reads and validates a configuration file, with AWS's messages. */
function loadConfigFile(path: string): AgentFileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`configuration file "${path}" not found`);
    throw new Error(`could not read the configuration file "${path}": ${(e as Error).message}`);
  }
  try {
    return parseAgentConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) throw new Error(`${path}: ${e.message}`);
    throw e;
  }
}

/** `lockstep agent`: serves cached secrets on a local port, compatible with the AWS Secrets Manager Agent. */
export function agentCommand(): Command {
  return new Command('agent')
    .description('Serve cached secrets on a local port, compatible with the AWS Secrets Manager Agent')
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').default(2773).argParser(portNumber))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--endpoint <url>', "the Lockstep server's URL (else AWS_ENDPOINT_URL)").env('LOCKSTEP_ENDPOINT'))
    .addOption(new Option('--region <region>', 'the Region requests are signed for (else AWS_REGION, AWS_DEFAULT_REGION, us-east-1)'))
    .addOption(
      new Option('--ttl-seconds <n>', 'seconds a value is served before it is checked again (0: read every request through)')
        .default(300).argParser(wholeNumber('--ttl-seconds', RANGES.ttlSeconds[0], RANGES.ttlSeconds[1])),
    )
    .addOption(new Option('--cache-size <n>', 'secrets kept in memory').default(1000).argParser(wholeNumber('--cache-size', RANGES.cacheSize[0], RANGES.cacheSize[1])))
    .addOption(
      new Option('--max-connections <n>', 'open client connections allowed').default(800)
        .argParser(wholeNumber('--max-connections', RANGES.maxConn[0], RANGES.maxConn[1])),
    )
    .addOption(new Option('--config <file>', "an AWS Secrets Manager Agent configuration file (TOML); flags given override it"))
    .addOption(new Option('--profile <name>', 'the AWS profile whose credentials sign requests (else the default chain)'))
    .action(async (o: AgentCliOptions, cmd: Command) => {
      const fromCli = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      const file = o.config ? loadConfigFile(o.config) : {};
      const port = fromCli('port') ? o.port : (file.httpPort ?? o.port);
      const host = fromCli('host') ? o.host : (file.httpAddress ?? o.host);
      const ttlSeconds = fromCli('ttlSeconds') ? o.ttlSeconds : (file.ttlSeconds ?? o.ttlSeconds);
      const cacheSize = fromCli('cacheSize') ? o.cacheSize : (file.cacheSize ?? o.cacheSize);
      const maxConnections = fromCli('maxConnections') ? o.maxConnections : (file.maxConn ?? o.maxConnections);
      const region = (fromCli('region') ? o.region : undefined) ?? file.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`--region '${region}' is not a Region name`);
      const endpoint = o.endpoint ?? process.env.AWS_ENDPOINT_URL;
      if (!endpoint) throw new Error('no Lockstep endpoint: pass --endpoint <url> or set LOCKSTEP_ENDPOINT (or AWS_ENDPOINT_URL)');
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw new Error(`--endpoint '${endpoint}' is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--endpoint '${endpoint}' must be an http or https URL`);
      // What the log shows: never user information a URL might carry.
      const shownEndpoint = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;

      // As AWS's agent: no token, no start.
      const envNames = file.ssrfEnvVariables ?? DEFAULT_SSRF_ENV_VARIABLES;
      let token: ResolvedToken;
      try {
        token = resolveToken(envNames, process.env);
      } catch (e) {
        if (e instanceof TokenError) throw new Error(`refusing to start: ${e.message}`);
        throw e;
      }

      const logger = pino({ level: file.logLevel ?? 'info', base: undefined }, pino.destination({ fd: 2, sync: true }));
      const errorFields = (e: unknown) => ({ error: `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}` });

      // Signals are handled from the start: one that arrives while starting stops the agent once started.
      let stopping: string | undefined;
      let agent: Agent | undefined;
      const stop = async (signal: string) => {
        if (stopping && agent === undefined) return;
        stopping = signal;
        if (!agent) return;
        const a = agent;
        agent = undefined;
        await a.close();
        logger.info({ signal }, 'lockstep agent stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));

      // The agent logs one line per start; the SDK's notice about future Node.js requirements (Lockstep
      // supports Node.js 20) would add nine more to every start.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      // The AWS SDK is an optional peer dependency: loaded here, so other commands never need it.
      let mod: typeof import('../agent/server.js');
      try {
        mod = await import('../agent/server.js');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /@aws-sdk/.test((e as Error).message)) {
          throw new Error('lockstep agent needs the AWS SDK: npm install @aws-sdk/client-secrets-manager');
        }
        throw e;
      }
      const client = mod.createAgentClient({ endpoint, region, profile: o.profile });
      const started = await mod.startAgent({
        client,
        token: token.token,
        ssrfHeaders: file.ssrfHeaders ?? DEFAULT_SSRF_HEADERS,
        pathPrefix: file.pathPrefix ?? '/v1/',
        port,
        host,
        ttlSeconds,
        cacheSize,
        maxConnections,
        onBackgroundError: (e, secretId) =>
          secretId === undefined
            ? logger.warn(errorFields(e), 'event stream unavailable; serving cached values (checked after the TTL)')
            : logger.warn({ secretId, ...errorFields(e) }, 'background refresh failed; serving the cached value'),
        onRequestError: (e, secretId, status) => logger.debug({ secretId, status, ...errorFields(e) }, 'read failed'),
      }).catch((e: Error) => {
        client.destroy();
        throw new Error(`could not listen on ${host}:${port}: ${e.message}`);
      });
      agent = started;
      const source = describeSource(token.source);
      logger.info(
        { url: started.url, endpoint: shownEndpoint, region, ttlSeconds, cacheSize, maxConnections, tokenSource: source, pid: process.pid },
        `lockstep agent listening on ${started.url} for ${shownEndpoint} (region ${region}, TTL ${ttlSeconds} s, cache ${cacheSize}, ` +
          `max ${maxConnections} connections); SSRF token from ${source}`,
      );
      if (stopping) {
        const signal = stopping;
        stopping = undefined;
        await stop(signal);
      }
    });
}
