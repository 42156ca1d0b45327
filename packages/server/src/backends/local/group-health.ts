import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import {
  type CheckResult,
  type HealthCheck,
  type HealthState,
  type HealthStatus,
  isHealthyHttpStatus,
  newHealthState,
  nextCheckAt,
  observe,
} from '@galley/core';
import type { Clock } from '../../clock.js';

/**
 * Galley's own health checks of a local process (Mesos runs them on its agents): HTTP GET, TCP
 * connect or a shell command, each bounded by the check's timeout, scheduled by core
 * `nextCheckAt` and judged by core `observe` (grace period, failure threshold). Reports a status
 * when it changes to `healthy`, `failing` or `unhealthy` (a process starts out pending).
 */
export interface ProbeTarget {
  /** The host port HTTP and TCP checks connect to (on 127.0.0.1); null when the process has none. */
  port: number | null;
  /** Working directory and environment of a COMMAND check. */
  cwd: string;
  env: Record<string, string>;
  /** A process in a container: how a COMMAND check runs in it (`<runtime> exec`); absent = on the host. */
  exec?: (command: string) => { file: string; args: string[]; env: Record<string, string> };
}

/** One process's checks; `stop()` ends them (the process ended or is being stopped). */
export class HealthProbe {
  private state: HealthState;
  private timer: NodeJS.Timeout | null = null;
  private reported: HealthStatus = 'pending';
  private stopped = false;
  private inFlight: AbortController | null = null;

  constructor(
    private readonly check: HealthCheck,
    private readonly target: ProbeTarget,
    private readonly clock: Clock,
    private readonly onChange: (status: HealthStatus, message: string) => void,
    startedAt: number,
  ) {
    this.state = newHealthState(check, startedAt);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
  }

  private schedule(): void {
    const at = nextCheckAt(this.state);
    if (this.stopped || at === null) return;
    this.timer = setTimeout(() => void this.runOnce(), Math.max(0, at - this.clock.now()));
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    this.timer = null;
    const result = await this.probe();
    if (this.stopped) return;
    this.state = observe(this.state, result, this.clock.now());
    const status = this.state.status;
    if (status !== 'pending' && status !== this.reported) {
      this.reported = status;
      const last = this.state.lastResult;
      const message =
        status === 'healthy'
          ? `${this.check.protocol} check passed`
          : `${this.state.consecutiveFailures} failed ${this.check.protocol} check${this.state.consecutiveFailures === 1 ? '' : 's'}${last && !last.ok ? `: ${last.message}` : ''}`;
      this.onChange(status, message);
    }
    this.schedule();
  }

  private async probe(): Promise<CheckResult> {
    const abort = new AbortController();
    this.inFlight = abort;
    const timeout = setTimeout(() => abort.abort(), this.check.timeoutMs);
    try {
      switch (this.check.protocol) {
        case 'HTTP':
          return await this.http(abort.signal);
        case 'TCP':
          return await this.tcp(abort.signal);
        case 'COMMAND':
          return await this.command(abort.signal);
      }
    } catch (err) {
      if (abort.signal.aborted)
        return { ok: false, message: `timed out after ${this.check.timeoutMs / 1000} s` };
      return { ok: false, message: (err as Error).message };
    } finally {
      clearTimeout(timeout);
      this.inFlight = null;
    }
  }

  private async http(signal: AbortSignal): Promise<CheckResult> {
    if (this.target.port === null) return { ok: false, message: 'the process has no port to check' };
    const url = `http://127.0.0.1:${this.target.port}${this.check.path}`;
    const res = await fetch(url, { signal, redirect: 'manual' });
    await res.body?.cancel();
    return isHealthyHttpStatus(res.status)
      ? { ok: true }
      : { ok: false, message: `GET ${this.check.path} answered ${res.status}` };
  }

  private tcp(signal: AbortSignal): Promise<CheckResult> {
    const port = this.target.port;
    if (port === null) return Promise.resolve({ ok: false, message: 'the process has no port to check' });
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ ok: true });
      });
      socket.once('error', (err) => reject(err));
    });
  }

  private command(signal: AbortSignal): Promise<CheckResult> {
    return new Promise((resolve, reject) => {
      const script = this.check.command ?? 'true';
      const inContainer = this.target.exec?.(script);
      const child = spawn(inContainer?.file ?? '/bin/sh', inContainer?.args ?? ['-c', script], {
        cwd: this.target.cwd,
        env: inContainer?.env ?? this.target.env,
        stdio: 'ignore',
        signal,
        killSignal: 'SIGKILL',
      });
      child.once('error', reject);
      child.once('exit', (code, sig) => {
        if (code === 0) resolve({ ok: true });
        else if (!signal.aborted)
          resolve({ ok: false, message: sig ? `killed by ${sig}` : `command exited with code ${code}` });
      });
    });
  }
}
