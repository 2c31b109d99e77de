import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirOption, wholeNumber } from './options.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { matchesAudit, verifyAudit, type AuditFilter, type AuditRecord } from '../monitoring/audit.js';
import type { AuditRow } from '../storage/types.js';

interface FilterOptions {
  dataDir: string;
  since?: string;
  until?: string;
  principal?: string;
  action?: string;
  resource?: string;
  outcome?: string;
}

function openAt(dataDir: string): SqliteStore {
  const file = join(resolve(dataDir), 'lockstep.sqlite');
  if (!existsSync(file)) throw new Error(`no Lockstep data in ${resolve(dataDir)}`);
  return new SqliteStore(file);
}

function time(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`${flag} must be an ISO 8601 time or epoch seconds`);
  return ms;
}

function filterOf(o: FilterOptions): AuditFilter {
  if (o.outcome !== undefined && !['success', 'error', 'denied'].includes(o.outcome)) throw new Error('--outcome must be success, error or denied');
  return {
    sinceMs: time('--since', o.since), untilMs: time('--until', o.until), principal: o.principal, action: o.action,
    resource: o.resource, outcome: o.outcome,
  };
}

function withFilters(c: Command): Command {
  return c
    .addOption(dataDirOption())
    .option('--since <time>', 'records at or after this time (ISO 8601 or epoch seconds)')
    .option('--until <time>', 'records at or before this time')
    .option('--principal <arn>', "only this principal's records ('root' for the root key)")
    .option('--action <action>', 'only this action, e.g. secretsmanager:GetSecretValue or secretsmanager:*')
    .option('--resource <text>', 'only records whose resource contains this text')
    .option('--outcome <outcome>', 'success, error or denied');
}

/** One record as a JSON line: its sequence number and hash with what it says. */
function line(row: AuditRow, r: AuditRecord): string {
  return JSON.stringify({ seq: row.seq, ...r, hash: row.hash }) + '\n';
}

async function scan(store: SqliteStore, after: number, f: AuditFilter, out: (row: AuditRow, r: AuditRecord) => boolean | void): Promise<number> {
  for (;;) {
    const page = await store.read((tx) => tx.audit.list(after, 1000));
    for (const row of page) {
      after = row.seq;
      const r = JSON.parse(row.record) as AuditRecord;
      if (matchesAudit(row, r, f) && out(row, r) === false) return after;
    }
    if (page.length < 1000) return after;
  }
}

/** `lockstep audit verify|query|tail`: the hash-chained audit trail, read from the data directory (also while the server runs). */
export function auditCommand(): Command {
  const cmd = new Command('audit').description('The audit trail: verify its hash chain, query and follow it');
  cmd
    .command('verify')
    .description('Check every record against its hash and the chain; exit 1 if anything was edited or deleted')
    .addOption(dataDirOption())
    .action(async (o: { dataDir: string }) => {
      const store = openAt(o.dataDir);
      try {
        const v = await verifyAudit(store);
        for (const b of v.breaks) process.stdout.write(`record ${b.seq}: ${b.problem}\n`);
        process.stdout.write(
          v.ok
            ? `ok: ${v.records} records, chain intact${v.head ? `; head ${v.head.seq} ${v.head.hash}` : ''}\n`
            : `BROKEN: ${v.breaks.length} problem(s) in ${v.records} records\n`,
        );
        if (!v.ok) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
  withFilters(cmd.command('query').description('Print matching records, oldest first, one JSON object per line'))
    .addOption(new Option('--limit <n>', 'at most this many records').argParser(wholeNumber('--limit', 1)))
    .action(async (o: FilterOptions & { limit?: number }) => {
      const f = filterOf(o);
      const store = openAt(o.dataDir);
      try {
        let n = 0;
        await scan(store, 0, f, (row, r) => {
          process.stdout.write(line(row, r));
          return o.limit === undefined || ++n < o.limit;
        });
      } finally {
        await store.close();
      }
    });
  withFilters(cmd.command('tail').description('Print the last matching records, then follow new ones (Ctrl-C to stop)'))
    .addOption(new Option('-n, --lines <n>', 'records to show first').default(10).argParser(wholeNumber('--lines', 0)))
    .option('--no-follow', 'print and exit')
    .action(async (o: FilterOptions & { lines: number; follow: boolean }) => {
      const f = filterOf(o);
      const store = openAt(o.dataDir);
      const recent: string[] = [];
      let after = await scan(store, 0, f, (row, r) => {
        recent.push(line(row, r));
        if (recent.length > o.lines) recent.shift();
      });
      for (const l of recent) process.stdout.write(l);
      if (!o.follow) return void (await store.close());
      const stop = () => void store.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      for (;;) {
        after = await scan(store, after, f, (row, r) => void process.stdout.write(line(row, r)));
        await new Promise((r) => setTimeout(r, 250));
      }
    });
  return cmd;
}
