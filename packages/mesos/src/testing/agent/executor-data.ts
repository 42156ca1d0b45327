import { taskCommand } from '../../executor/command-executor.js';
import type { TaskInfo } from '../../types/index.js';
import type { JsonObject } from '../model/world.js';

/**
 * The command a galley-executor task carries in `TaskInfo.data` (base64 of a JSON CommandInfo, or
 * plain shell text), read as galley-executor reads it (`taskCommand`): a task launched with an
 * ExecutorInfo cannot also have a `command`. Simulate mode plays custom executors with it.
 */
export function commandInData(info: JsonObject | undefined): JsonObject | undefined {
  const data = info?.data;
  if (typeof data !== 'string' || data === '') return undefined;
  return taskCommand({ data } as TaskInfo) as JsonObject | undefined;
}
