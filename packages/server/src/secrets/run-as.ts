import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/**
 * Who local host-mode jobs run as (`--run-as`). A job must not reach the server: run as another,
 * unprivileged user it cannot read `/proc/<server>/environ` (only the same uid, or root, can) nor
 * the data directory (0700, the server's). Default: `nobody` when the server runs as root (it can
 * switch), else the server's own user, which cannot switch — then jobs share the server's user,
 * and the start-up log says so.
 */
export interface RunAs {
  /** As given or defaulted (a name, or the uid when the user database has none). */
  name: string;
  uid: number;
  gid: number;
  /** Jobs run as another user than the server's (the spawn switches uid and gid). */
  switches: boolean;
  /** `--run-as` was given (containers then run with `--user uid:gid`; else as their image says). */
  explicit: boolean;
}

/** A passwd entry: name, uid, gid. */
function passwd(): { name: string; uid: number; gid: number }[] {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
      .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
  } catch {
    return [];
  }
}

/** Our uid, or null where there is none (not POSIX). */
function ownUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null;
}

/**
 * The run-as user of `given` (`NAME`, `UID` or `UID:GID`; null = the default). Throws with a
 * readable message for an unknown user, or one a non-root server cannot switch to.
 */
export function resolveRunAs(given: string | null): RunAs {
  const me = ownUid();
  const myGid = typeof process.getgid === 'function' ? process.getgid() : 0;
  if (given === null) {
    if (me === 0) {
      const nobody = passwd().find((p) => p.name === 'nobody') ?? { name: 'nobody', uid: 65534, gid: 65534 };
      return { ...nobody, switches: true, explicit: false };
    }
    return { name: safeUserName(), uid: me ?? 0, gid: myGid, switches: false, explicit: false };
  }
  let target: { name: string; uid: number; gid: number } | undefined;
  const numeric = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(given);
  if (numeric) {
    const uid = Number(numeric[1]);
    const entry = passwd().find((p) => p.uid === uid);
    target = {
      name: entry?.name ?? String(uid),
      uid,
      gid: numeric[2] !== undefined ? Number(numeric[2]) : (entry?.gid ?? uid),
    };
  } else target = passwd().find((p) => p.name === given);
  if (!target) throw new Error(`runAs (--run-as): no user ${JSON.stringify(given)} on this host`);
  const switches = target.uid !== me || target.gid !== myGid;
  if (switches && me !== 0)
    throw new Error(
      `runAs (--run-as): only a server running as root can run jobs as ${given}; this one runs as uid ${me}`,
    );
  return { ...target, switches, explicit: true };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(ownUid() ?? 'unknown');
  }
}

/** The start-up words about who jobs run as. */
export function runAsNote(r: RunAs): string {
  if (r.switches) return `local jobs run as ${r.name} (uid ${r.uid}, gid ${r.gid}), not as the server's user`;
  return `local jobs run as the server's own user (${r.name}, uid ${r.uid}): they share its rights; start the server as root (jobs then run as nobody) or give --run-as to separate them`;
}
