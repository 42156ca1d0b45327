/**
 * Coalescing the writes of calls made in the same event-loop turn. undici writes each request
 * on its own (one `writev` per call, a syscall that on loopback also runs the receiver's TCP
 * path); a busy scheduler makes one ACKNOWLEDGE per status update, often dozens in one turn
 * (after a batch of events, or as answers arrive). Holding the pool's connections corked from
 * the first call of a turn until the turn's check phase (`setImmediate`) sends each
 * connection's requests of that turn in one write. The bytes are the same and still leave in
 * the turn they were made in; only their segmentation changes.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** The connections of one undici pool, and the cork held on them during a turn. */
export class WriteBatcher {
  private readonly sockets = new Set<Socket>();
  private held: Socket[] | undefined;
  private readonly release = (): void => {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) for (const socket of held) socket.uncork();
  };

  /** An undici `connect` function that makes connections as `options` say and tracks them. */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const connect = buildConnector(options);
    return (opts, callback) =>
      connect(opts, (error, socket) => {
        // On a failed connection undici passes the error and no socket (undefined, not null).
        if (error === null && socket) {
          this.sockets.add(socket);
          socket.once('close', () => this.sockets.delete(socket));
        }
        (callback as (e: Error | null, s: Socket | null) => void)(error, socket);
      });
  }

  /** Corks every open connection until this turn's check phase (once per turn). Call before dispatching. */
  hold(): void {
    if (this.held !== undefined || this.sockets.size === 0) return;
    const held: Socket[] = [];
    for (const socket of this.sockets) {
      if (socket.destroyed) continue;
      socket.cork();
      held.push(socket);
    }
    this.held = held;
    setImmediate(this.release);
  }
}
