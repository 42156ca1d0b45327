#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { CliError, EXIT, GalleyClient } from './client.js';
import { pipelineCommand } from './commands/pipeline.js';
import { logsCommand, runCommand, runsCommand, stopCommand } from './commands/runs.js';
import { serveCommand } from './commands/serve.js';
import { taskCommand } from './commands/tasks.js';

/** The default server URL; GALLEY_URL or --url changes it. */
export const DEFAULT_URL = 'http://127.0.0.1:1424';

/** Builds the `galley` command line. */
export function galleyProgram(): Command {
  const program = new Command('galley')
    .description('Galley: run jobs on this machine or on Mesos, with a Flotilla-compatible API')
    .version(VERSION)
    .option('--url <url>', 'server URL (env GALLEY_URL)', process.env['GALLEY_URL'] ?? DEFAULT_URL)
    .showHelpAfterError()
    .exitOverride();
  const client = () => new GalleyClient(program.opts<{ url: string }>().url);
  program.addCommand(serveCommand());
  program.addCommand(taskCommand(client));
  program.addCommand(runCommand(client));
  program.addCommand(runsCommand(client));
  program.addCommand(logsCommand(client));
  program.addCommand(stopCommand(client));
  program.addCommand(pipelineCommand(client));
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
