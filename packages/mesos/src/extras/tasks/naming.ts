/**
 * Task names and ids of the task manager: instance `<serial>` of spec `<name>` is the Mesos task
 * named `<name>-<serial>`, and each launch of it gets the id `<name>-<serial>.<random hex>`, so an
 * id is never reused while the serial (the instance's slot, 1..instances) survives restarts.
 */

/** The Mesos task name of an instance: `<name>-<serial>`. */
export function instanceName(spec: string, serial: number): string {
  return `${spec}-${serial}`;
}

/**
 * A fresh task id `<name>-<serial>.<12 hex digits>`; `random` returns numbers in [0, 1). When
 * `taken(id)` says an id is in use, the next hex value is tried, so this always terminates.
 */
export function newTaskId(
  spec: string,
  serial: number,
  random: () => number,
  taken: (id: string) => boolean = () => false,
): string {
  const space = 2 ** 48;
  let n = Math.floor(random() * 0x1000000) * 0x1000000 + Math.floor(random() * 0x1000000);
  for (;;) {
    const id = `${instanceName(spec, serial)}.${n.toString(16).padStart(12, '0')}`;
    if (!taken(id)) return id;
    n = (n + 1) % space;
  }
}

/** The spec name and serial encoded in a task id, or `undefined` when it is not one of ours. */
export function parseTaskId(taskId: string): { spec: string; serial: number } | undefined {
  const m = /^([A-Za-z0-9_-]+)-([1-9][0-9]*)\.[0-9a-f]+$/.exec(taskId);
  if (m === null) return undefined;
  return { spec: m[1] as string, serial: Number(m[2]) };
}

/** The environment variable carrying an instance's serial: `TASK_<NAME>_SERIAL_NUMBER`, upper-cased, `-` → `_`. */
export function serialVariable(spec: string): string {
  return `TASK_${spec.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_SERIAL_NUMBER`;
}
