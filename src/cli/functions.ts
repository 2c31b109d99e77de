import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirOption, wholeNumber } from './options.js';
import { logPath, readLog } from '../rotation/functions/logs.js';

/** A function name from a name or a function ARN (`$LATEST` qualifier allowed). */
function nameOf(value: string): string {
  const m = /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9_-]{1,64})(?::\$LATEST)?$/.exec(value);
  if (!m) throw new Error(`'${value}' is not a function name or function ARN`);
  return m[1];
}

/** The last n lines of text. */
function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).join('\n') + '\n';
}

/** `lockstep functions`: tools for rotation functions registered through the Lambda-compatible API. */
export function functionsCommand(): Command {
  const cmd = new Command('functions').description('rotation functions registered through the Lambda-compatible API');
  cmd
    .command('logs')
    .description("print a function's log: the output of its invocations, with Lambda's START/END/REPORT lines")
    .argument('<name>', 'function name or ARN')
    .addOption(dataDirOption())
    .addOption(new Option('--lines <n>', 'print only the last n lines').argParser(wholeNumber('--lines', 1)))
    .action((value: string, o: { dataDir: string; lines?: number }) => {
      const name = nameOf(value);
      const dataDir = resolve(o.dataDir);
      const log = readLog(dataDir, name);
      if (log === undefined) throw new Error(`no log for function ${name}: ${logPath(dataDir, name)} does not exist (has it been invoked?)`);
      process.stdout.write(o.lines ? lastLines(log, o.lines) : log);
    });
  return cmd;
}
