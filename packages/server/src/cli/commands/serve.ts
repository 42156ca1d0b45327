import { constants as osConstants } from 'node:os';
import { Command, Option } from 'commander';
import { type AliasUse, CONFIG_ALIASES, describeAliasUse } from '../../config/aliases.js';
import { OPTIONS } from '../../config/options.js';
import type { FlatConfig } from '../../config/options.js';
import { CliError, EXIT } from '../client.js';
import { applyHeapGrowth } from '../../heap-growth.js';
import { applyMallocThreshold } from '../../malloc-threshold.js';
import { IdleTrimmer, loadMallocTrim } from '../../idle-trim.js';
import type { GalleyServer } from '../../app.js';

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
  // Flotilla's and Faustian's flags (see config/aliases.ts): Galley's own flags win.
  const aliasFlags = CONFIG_ALIASES.filter((a) => a.flag);
  for (const a of aliasFlags) {
    const galley = OPTIONS.find((o) => o.key === a.key)?.flag ?? a.key;
    cmd.addOption(
      new Option(`${a.flag} <value>`, `${a.from}'s name for ${galley}${a.note ? ` (${a.note})` : ''}`),
    );
  }
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const flags: Partial<Record<keyof FlatConfig, string>> = {};
    for (const o of OPTIONS) {
      const value = opts[o.key];
      if (value !== undefined) flags[o.key] = value;
    }
    const given: Partial<Record<string, string>> = {};
    for (const a of aliasFlags) {
      const value = a.flag ? opts[new Option(`${a.flag} <value>`).attributeName()] : undefined;
      if (a.flag && value !== undefined) given[a.flag] = value;
    }
    // The server and its config checks load here, not with the CLI: client commands stay light.
    const [{ authSummary, buildServer }, { ConfigError, resolveConfig }] = await Promise.all([
      import('../../app.js'),
      import('../../config/config.js'),
    ]);
    const aliasUses: AliasUse[] = [];
    let config;
    try {
      config = resolveConfig({
        flags,
        aliasFlags: given,
        onAlias: (use) => aliasUses.push(use),
        env: process.env,
        ...(opts['config'] ? { configFile: opts['config'] } : {}),
      });
    } catch (err) {
      for (const use of aliasUses) process.stderr.write(`galley: ${describeAliasUse(use)}\n`);
      if (err instanceof ConfigError) throw new CliError(err.message, EXIT.USAGE, err.code);
      throw err;
    }
    // Before the server's data fills the heap (see heap-growth.ts), and before PGlite's
    // WebAssembly is read and compiled (see malloc-threshold.ts).
    applyHeapGrowth(config.heapGrowingPercent);
    const malloc = await applyMallocThreshold(config.mallocMmapThresholdKb);
    // The server answers before its takeover is done (listenBeforeTakeover), so a signal may come
    // while it is still being built: it stops once built, or at once at a second signal.
    let built: GalleyServer | null = null;
    let stopSignal: string | null = null;
    const shutdown = (signal: 'SIGINT' | 'SIGTERM') => {
      if (stopSignal !== null) {
        if (!built) process.exit(128 + osConstants.signals[signal]);
        return;
      }
      stopSignal = signal;
      if (built) stop(built, signal);
      else process.stderr.write(`galley: ${signal}: stopping once started (again to stop at once)\n`);
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    const server = await buildServer(
      config,
      {},
      {
        listenBeforeTakeover: true,
        onListening: (url, store) => {
          process.stderr.write(`galley: auth: ${authSummary(config)}\n`);
          process.stderr.write(`galley: listening on ${url} (store: ${store}, data: ${config.dataDir})\n`);
        },
      },
    ).catch((err: unknown) => {
      // Settings checked at start (auth none off loopback, an unusable bootstrap token file).
      if (err instanceof ConfigError) throw new CliError(err.message, EXIT.USAGE, err.code);
      throw err;
    });
    built = server;
    await server.listen(); // listening already (listenBeforeTakeover): the same address
    if (malloc.state === 'unavailable')
      server.logger.info(
        { why: malloc.why },
        `--malloc-mmap-threshold-kb not applied: ${malloc.why}; glibc keeps its own threshold`,
      );
    if (config.mallocTrimIdleMs > 0) {
      // Start-up's threads leave free memory in glibc's arenas: given back once the server idles.
      const loaded = await loadMallocTrim();
      if ('why' in loaded)
        server.logger.info({ why: loaded.why }, `--malloc-trim-idle-ms not applied: ${loaded.why}`);
      else
        new IdleTrimmer({
          everyMs: config.mallocTrimIdleMs,
          trim: loaded.trim,
          onTrim: (freed, cpuMicros) =>
            server.logger.debug({ freed, cpu_us: cpuMicros }, 'idle: free memory given back to the system'),
        }).start();
    }
    for (const use of aliasUses)
      server.logger.warn(
        { alias: use.name, from: use.from, setting: use.galley, used: use.used },
        describeAliasUse(use),
      );
    if (stopSignal !== null) stop(server, stopSignal);
  });
  return cmd;
}

/** Stops the server (running attempts keep running) and then the process. */
function stop(server: GalleyServer, signal: string): void {
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
}
