/**
 * The command executor's log lines (glog, in a sandbox's stderr) reduced to what does not change
 * from run to run: the header's time and thread id go, and so do pids and agent ids, so a fake's
 * sandbox and a recorded one compare line by line.
 */
export function executorLogShape(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line
        .replace(/^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ /, '$1 ')
        .replace(/(Forked command at |\(pid: |process tree at pid |process tree at |Process )\d+/g, '$1<pid>')
        .replace(/(Executor registered on agent )\S+/, '$1<agent>'),
    );
}
