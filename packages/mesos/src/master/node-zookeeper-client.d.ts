/**
 * The part of `node-zookeeper-client` (1.1.x, plain JavaScript) that Galley uses, typed from its
 * README. Ambient, so it is not part of the package's emitted declarations.
 */
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface State {
    getName(): string;
    getCode(): number;
  }
  export interface WatcherEvent {
    getType(): number;
    getName(): string;
    getPath(): string;
  }
  export interface ZooKeeperException extends Error {
    getCode(): number;
    getName(): string;
  }
  export interface Stat {
    version: number;
  }
  export type Callback<T> = (error: ZooKeeperException | Error | null, result: T, stat?: Stat) => void;

  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getState(): State;
    addAuthInfo(scheme: string, auth: Buffer): void;
    getChildren(path: string, watcher: (event: WatcherEvent) => void, callback: Callback<string[]>): void;
    getChildren(path: string, callback: Callback<string[]>): void;
    getData(path: string, callback: Callback<Buffer | undefined>): void;
    exists(path: string, watcher: (event: WatcherEvent) => void, callback: Callback<Stat | null>): void;
    create(path: string, data: Buffer, mode: number, callback: Callback<string>): void;
    remove(path: string, callback: (error: Error | null) => void): void;
    mkdirp(path: string, callback: (error: Error | null, path: string) => void): void;
  }

  export interface ClientOptions {
    sessionTimeout?: number;
    spinDelay?: number;
    retries?: number;
  }

  export function createClient(connectionString: string, options?: ClientOptions): Client;

  export const State: {
    DISCONNECTED: State;
    SYNC_CONNECTED: State;
    AUTH_FAILED: State;
    CONNECTED_READ_ONLY: State;
    SASL_AUTHENTICATED: State;
    EXPIRED: State;
  };
  export const CreateMode: {
    PERSISTENT: number;
    PERSISTENT_SEQUENTIAL: number;
    EPHEMERAL: number;
    EPHEMERAL_SEQUENTIAL: number;
  };
  export const Exception: {
    NO_NODE: number;
    NODE_EXISTS: number;
    CONNECTION_LOSS: number;
    SESSION_EXPIRED: number;
  };

  const zookeeper: {
    createClient: typeof createClient;
    State: typeof State;
    CreateMode: typeof CreateMode;
    Exception: typeof Exception;
  };
  export default zookeeper;
}
