#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';

// A larger young generation: the server allocates many short-lived objects per request, and fewer
// scavenges mean less time in the garbage collector under load.
setFlagsFromString('--max-semi-space-size=32');
import { serveCommand } from './serve.js';
import { rotationCommand } from './rotation.js';
import { functionsCommand } from './functions.js';
import { agentCommand } from './agent.js';
import { iamCommand } from './iam.js';
import { auditCommand } from './audit.js';
import { keysCommand } from './keys.js';

const program = new Command('lockstep')
  .description('Lockstep: a self-hosted secrets manager that speaks the AWS Secrets Manager API')
  .version('0.1.0');
program.addCommand(serveCommand());
program.addCommand(rotationCommand());
program.addCommand(functionsCommand());
program.addCommand(agentCommand());
program.addCommand(iamCommand());
program.addCommand(auditCommand());
program.addCommand(keysCommand());
program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`lockstep: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
