import cluster, { type Worker } from 'node:cluster';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirOption, wholeNumber } from './options.js';
import { pino, type Logger } from 'pino';
import { prepareDataDir, startLockstep, type Lockstep } from '../server/app.js';

interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  region: string;
  accountId: string;
  storage: string;
  logLevel: string;
  workers: number;
}

function listenLine(logger: Logger, url: string, o: ServeOptions, dataDir: string, credentialsFile: string, workers: number): void {
  logger.info(
    { url, region: o.region, dataDir, credentials: credentialsFile, workers },
    `Lockstep listening on ${url} (region ${o.region}); root credentials in ${credentialsFile}`,
  );
}

/** One server process: serves until SIGTERM/SIGINT, then finishes in-flight requests and closes the store. */
async function serveOne(o: ServeOptions, dataDir: string, logger: Logger, announce: boolean): Promise<void> {
  // Signals are handled from the very start: one that arrives while the server is still
  // starting stops it as soon as it has started, and the store is always closed cleanly.
  let stopping: string | undefined;
  let started: Lockstep | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = signal;
    if (!started) return; // picked up once start-up finishes
    if (announce) logger.info({ signal }, 'stopping: finishing in-flight requests');
    const force = setTimeout(() => started!.server.closeAllConnections(), 10_000);
    force.unref();
    await started.close();
    if (announce) logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A worker is told to stop by its primary over the IPC channel.
  process.on('message', (m) => {
    if (m === 'lockstep:stop') void stop('SIGTERM');
  });
  const app = await startLockstep({
    port: o.port, host: o.host, dataDir, region: o.region, accountId: o.accountId, storage: o.storage, logger,
  });
  started = app;
  if (announce) listenLine(logger, app.url, o, dataDir, app.credentials.rootFile, 1);
  if (stopping) {
    const signal = stopping;
    stopping = undefined;
    await stop(signal);
  }
}

/**
 * The primary of several worker processes sharing one port: prepares the data directory once,
 * starts the workers, replaces one that dies, and on SIGTERM/SIGINT stops them all cleanly.
 */
async function servePrimary(o: ServeOptions, dataDir: string, logger: Logger): Promise<void> {
  const prepared = await prepareDataDir({ dataDir, storage: o.storage });
  const credentialsFile = prepared.credentials.rootFile;
  await prepared.store.close();
  let stopping = false;
  const workers = new Set<Worker>();
  const fork = () => {
    const w = cluster.fork({ LOCKSTEP_WORKER: '1' });
    workers.add(w);
    w.on('exit', (code, signal) => {
      workers.delete(w);
      if (!stopping) {
        logger.error({ code, signal }, 'a worker stopped unexpectedly; starting another');
        fork();
      } else if (workers.size === 0) {
        logger.info('stopped');
        process.exit(0);
      }
    });
    return w;
  };
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    if (workers.size === 0) process.exit(0);
    for (const w of workers) w.send('lockstep:stop');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const listening = await Promise.all(
    Array.from({ length: o.workers }, () => {
      const w = fork();
      return new Promise<{ address: string; port: number }>((resolveListen, reject) => {
        w.once('listening', (address) => resolveListen({ address: address.address ?? o.host, port: address.port }));
        w.once('exit', (code) => reject(new Error(`a worker exited with code ${code} before listening`)));
      });
    }),
  );
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  listenLine(logger, `http://${host}:${listening[0].port}`, o, dataDir, credentialsFile, o.workers);
}

/** `lockstep serve`: runs the server until SIGTERM or SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the Lockstep server')
    .addOption(new Option('--port <port>', 'port to listen on').env('LOCKSTEP_PORT').default(8400).argParser(wholeNumber('--port', 0, 65535)))
    .addOption(new Option('--host <host>', 'address to listen on').env('LOCKSTEP_HOST').default('127.0.0.1'))
    .addOption(dataDirOption('where data, keys and credentials live'))
    .addOption(new Option('--region <region>', 'the AWS Region this server answers as').env('LOCKSTEP_REGION').default('us-east-1'))
    .addOption(new Option('--account-id <id>', 'the 12-digit account id in ARNs').env('LOCKSTEP_ACCOUNT_ID').default('123456789012'))
    .addOption(new Option('--storage <backend>', 'storage backend').env('LOCKSTEP_STORAGE').default('sqlite'))
    .addOption(new Option('--workers <n>', 'server processes sharing the port (one per core uses the machine)').env('LOCKSTEP_WORKERS').default(1).argParser(wholeNumber('--workers', 1, 64)))
    .addOption(new Option('--log-level <level>', 'log level').env('LOCKSTEP_LOG_LEVEL').default('info'))
    .action(async (o: ServeOptions) => {
      if (!/^\d{12}$/.test(o.accountId)) throw new Error('--account-id must be 12 digits');
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(o.region)) throw new Error(`--region '${o.region}' is not a Region name`);
      const logger = pino({ level: o.logLevel, base: undefined });
      const dataDir = resolve(o.dataDir);
      if (cluster.isWorker) return serveOne(o, dataDir, logger, false);
      if (o.workers > 1) return servePrimary(o, dataDir, logger);
      return serveOne(o, dataDir, logger, true);
    });
}
