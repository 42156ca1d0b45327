import type { JsonObject } from '../model/world.js';

/**
 * The command a galley-executor task carries in `TaskInfo.data` (base64 of a JSON CommandInfo, or
 * plain shell text), as galley-executor reads it: a task launched with an ExecutorInfo cannot also
 * have a `command`. Simulate mode plays custom executors as galley-executor with it.
 */
export function commandInData(info: JsonObject | undefined): JsonObject | undefined {
  const data = info?.data;
  if (typeof data !== 'string' || data === '') return undefined;
  const text = Buffer.from(data, 'base64').toString('utf8');
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as JsonObject).value === 'string')
      return parsed as JsonObject;
  } catch {
    // not JSON: a plain shell command
  }
  return text.trim() === '' ? undefined : { shell: true, value: text };
}
