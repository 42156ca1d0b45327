import type { SimulatedBehavior } from '../options.js';

/**
 * The built-in interpretation of a command in simulate mode. A command made only of `sleep N`,
 * `exit N`, `true`, `false`, `:`, `echo …` (optionally `>&2`) and `trap "" TERM`, joined by `;`,
 * `&&` or new lines, is played out: its sleeps add up to the duration, `exit N` / `false` set the
 * exit code, echoes fill stdout/stderr. Anything else runs until killed.
 */
export function interpretCommand(command: string | undefined): SimulatedBehavior {
  if (command === undefined || command.trim() === '') return {};
  let durationMs = 0;
  let exitCode = 0;
  let ignoresTerm = false;
  let stdout = '';
  let stderr = '';
  for (const raw of command.split(/;|&&|\n/)) {
    const segment = raw.trim();
    if (segment === '') continue;
    const words = segment.split(/\s+/);
    const program = words[0] ?? '';
    if (program === 'sleep' && words.length === 2 && Number.isFinite(Number(words[1]))) {
      durationMs += Number(words[1]) * 1000;
    } else if (program === 'exit') {
      exitCode = words.length > 1 ? Number(words[1]) & 0xff : exitCode;
      return { durationMs, exitCode, ignoresTerm, stdout, stderr };
    } else if (program === 'true' || program === ':') {
      exitCode = 0;
    } else if (program === 'false') {
      exitCode = 1;
    } else if (program === 'echo') {
      const toStderr = /\s>&2$/.test(segment);
      const text = unquote(segment.replace(/^echo\s*/, '').replace(/\s*>&2$/, ''));
      if (toStderr) stderr += `${text}\n`;
      else stdout += `${text}\n`;
      exitCode = 0;
    } else if (/^trap\s+(""|'')\s+(TERM|SIGTERM|15)$/.test(segment)) {
      ignoresTerm = true;
    } else {
      return { durationMs: undefined, exitCode: 0, ignoresTerm, stdout, stderr };
    }
  }
  return { durationMs, exitCode, ignoresTerm, stdout, stderr };
}

function unquote(text: string): string {
  const trimmed = text.trim();
  if (
    trimmed.length >= 2 &&
    (trimmed.startsWith('"') || trimmed.startsWith("'")) &&
    trimmed.endsWith(trimmed[0] ?? '')
  ) {
    return trimmed.slice(1, -1);
  }
  return trimmed;
}

/** The command text of a CommandInfo: `value`, or argv joined for `shell: false`. */
export function commandText(command: Record<string, unknown> | undefined): string | undefined {
  if (command === undefined) return undefined;
  const value = typeof command.value === 'string' ? command.value : undefined;
  if (command.shell === false) {
    const args = Array.isArray(command.arguments) ? command.arguments.map(String) : [];
    const program = value?.split('/').pop() ?? args[0];
    return [program, ...args.slice(1)].filter((part) => part !== undefined).join(' ');
  }
  return value;
}
