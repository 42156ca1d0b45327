#!/usr/bin/env node
/**
 * galley-executor: a Mesos command executor (set it as `ExecutorInfo.command`). It reads its
 * configuration from the MESOS_* variables the agent sets, runs each task's shell command and
 * exits once the tasks ended and the agent acknowledged their terminal updates.
 */
import { runCommandExecutor } from './command-executor.js';
import { ExecutorError } from './errors.js';

runCommandExecutor().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const text = error instanceof ExecutorError ? `${error.code}: ${error.message}` : String(error);
    process.stderr.write(`galley-executor: ${text}\n`);
    process.exitCode = 2;
  },
);
