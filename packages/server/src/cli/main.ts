#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { CliError, EXIT, GalleyClient } from './client.js';
import { resolveCliTarget } from './credentials.js';
import { auditCommand, tokenCommand, whoamiCommand } from './commands/auth.js';
import { capacityCommand } from './commands/capacity.js';
import { pipelineCommand } from './commands/pipeline.js';
import { queuesCommand } from './commands/queues.js';
import { logsCommand, runCommand, runsCommand, stopCommand } from './commands/runs.js';
import { scheduleCommand, webhookCommand, withRetryFlags } from './commands/schedules.js';
import { secretCommand } from './commands/secrets.js';
import { serveCommand } from './commands/serve.js';
import { taskCommand } from './commands/tasks.js';

/** The default server URL; GALLEY_URL or --url changes it. */
export const DEFAULT_URL = 'http://127.0.0.1:1424';

/** Builds the `galley` command line. */
export function galleyProgram(): Command {
  const program = new Command('galley')
    .description('Galley: run jobs on this machine or on Mesos, with a Flotilla-compatible API')
    .version(VERSION)
    .option('--url <url>', `server URL (env GALLEY_URL, or the config file's url; default ${DEFAULT_URL})`)
    .option(
      '--token <token>',
      'API token or JWT (env GALLEY_TOKEN, or ~/.config/galley/config.json {url, token})',
    )
    .showHelpAfterError()
    .exitOverride();
  const client = () => {
    const target = resolveCliTarget(program.opts<{ url?: string; token?: string }>(), DEFAULT_URL);
    return new GalleyClient(target.url, target.token);
  };
  program.addCommand(serveCommand());
  program.addCommand(taskCommand(client));
  program.addCommand(withRetryFlags(runCommand(client)));
  program.addCommand(runsCommand(client));
  program.addCommand(logsCommand(client));
  program.addCommand(stopCommand(client));
  program.addCommand(queuesCommand(client));
  program.addCommand(pipelineCommand(client));
  program.addCommand(capacityCommand(client));
  program.addCommand(tokenCommand(client));
  program.addCommand(whoamiCommand(client));
  program.addCommand(auditCommand(client));
  program.addCommand(secretCommand(client));
  program.addCommand(scheduleCommand(client));
  program.addCommand(webhookCommand(client));
  return program;
}

async function main(): Promise<void> {
  try {
    await galleyProgram().parseAsync(process.argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    if (e.code?.startsWith('commander.')) process.exit(EXIT.USAGE);
    // exitCode, not exit(): let stderr drain before the process ends.
    if (err instanceof CliError) {
      process.stderr.write(`galley: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`galley: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

void main();
