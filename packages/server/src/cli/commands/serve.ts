import { Command, Option } from 'commander';
import { buildServer } from '../../app.js';
import { ConfigError, resolveConfig } from '../../config/config.js';
import { OPTIONS } from '../../config/options.js';
import type { FlatConfig } from '../../config/options.js';
import { CliError, EXIT } from '../client.js';

/** `galley serve`: runs the server until SIGINT/SIGTERM. Every setting has a flag (see the README table). */
export function serveCommand(): Command {
  const cmd = new Command('serve').description('run the Galley server (API, UI, controllers, backends)');
  cmd.option('--config <file>', 'JSON config file (env GALLEY_CONFIG)');
  for (const o of OPTIONS) {
    const option = new Option(`${o.flag} <value>`, `${o.description} [env ${o.env}]`);
    if (o.repeatable)
      option.argParser((value: string, previous?: string) => (previous ? `${previous};${value}` : value));
    cmd.addOption(option);
  }
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const flags: Partial<Record<keyof FlatConfig, string>> = {};
    for (const o of OPTIONS) {
      const value = opts[o.key];
      if (value !== undefined) flags[o.key] = value;
    }
    let config;
    try {
      config = resolveConfig({
        flags,
        env: process.env,
        ...(opts['config'] ? { configFile: opts['config'] } : {}),
      });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, EXIT.USAGE, err.code);
      throw err;
    }
    const server = await buildServer(config);
    const url = await server.listen();
    process.stderr.write(
      `galley: listening on ${url} (store: ${server.store.kind}, data: ${config.dataDir})\n`,
    );
    let closing = false;
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      server.logger.info(
        { signal },
        'shutting down; running attempts keep running and are found again at the next start',
      );
      server
        .close()
        .then(() => process.exit(0))
        .catch((err: unknown) => {
          server.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        });
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
  return cmd;
}
