import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { startLockstep, type Lockstep } from '../server/app.js';

function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** `lockstep serve`: runs the server until SIGTERM or SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the Lockstep server')
    .addOption(new Option('--port <port>', 'port to listen on').env('LOCKSTEP_PORT').default(8400).argParser(intOption('--port', 0, 65535)))
    .addOption(new Option('--host <host>', 'address to listen on').env('LOCKSTEP_HOST').default('127.0.0.1'))
    .addOption(new Option('--data-dir <dir>', 'where data, keys and credentials live').env('LOCKSTEP_DATA_DIR').default('./lockstep-data'))
    .addOption(new Option('--region <region>', 'the AWS Region this server answers as').env('LOCKSTEP_REGION').default('us-east-1'))
    .addOption(new Option('--account-id <id>', 'the 12-digit account id in ARNs').env('LOCKSTEP_ACCOUNT_ID').default('123456789012'))
    .addOption(new Option('--storage <backend>', 'storage backend').env('LOCKSTEP_STORAGE').default('sqlite'))
    .addOption(new Option('--log-level <level>', 'log level').env('LOCKSTEP_LOG_LEVEL').default('info'))
    .action(async (opts) => {
      if (!/^\d{12}$/.test(opts.accountId)) throw new Error('--account-id must be 12 digits');
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(opts.region)) throw new Error(`--region '${opts.region}' is not a Region name`);
      const logger = pino({ level: opts.logLevel, base: undefined });
      const dataDir = resolve(opts.dataDir);
      // Signals are handled from the very start: one that arrives while the server is still
      // starting stops it as soon as it has started, and the store is always closed cleanly.
      let stopping: string | undefined;
      let started: Lockstep | undefined;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = signal;
        if (!started) return; // picked up once start-up finishes
        logger.info({ signal }, 'stopping: finishing in-flight requests');
        const force = setTimeout(() => started!.server.closeAllConnections(), 10_000);
        force.unref();
        await started.close();
        logger.info('stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      const app = await startLockstep({
        port: opts.port, host: opts.host, dataDir, region: opts.region, accountId: opts.accountId,
        storage: opts.storage, logger,
      });
      started = app;
      logger.info(
        { url: app.url, region: opts.region, dataDir, credentials: app.credentials.rootFile },
        `Lockstep listening on ${app.url} (region ${opts.region}); root credentials in ${app.credentials.rootFile}`,
      );
      if (stopping) {
        const signal = stopping;
        stopping = undefined;
        await stop(signal);
      }
    });
}
