import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirOption, wholeNumber } from './options.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { formatHistory, rotationHistory } from '../rotation/history.js';

/** `lockstep rotation history SECRET`: every run and step of a secret's rotations, from the data directory. */
export function rotationCommand(): Command {
  const cmd = new Command('rotation').description('Rotation history and status');
  cmd
    .command('history')
    .description("Show a secret's rotation runs and steps (newest first)")
    .argument('<secret>', 'secret name or ARN')
    .addOption(dataDirOption())
    .addOption(new Option('--limit <n>', 'runs to show').default(20).argParser(wholeNumber('--limit', 1, 1000)))
    .option('--json', 'print JSON')
    .action(async (secret: string, o: { dataDir: string; limit: number; json?: boolean }) => {
      const file = join(resolve(o.dataDir), 'lockstep.sqlite');
      if (!existsSync(file)) throw new Error(`no Lockstep data in ${resolve(o.dataDir)}`);
      const store = new SqliteStore(file);
      try {
        const out = await store.read(async (tx) => {
          const s = (await tx.secrets.byName(secret)) ?? (await tx.secrets.byArn(secret));
          if (!s) throw new Error(`no secret ${secret}`);
          return { name: s.name, runs: await rotationHistory(tx, s, o.limit) };
        });
        process.stdout.write(o.json ? JSON.stringify(out.runs, null, 2) + '\n' : formatHistory(out.name, out.runs));
      } finally {
        await store.close();
      }
    });
  return cmd;
}
