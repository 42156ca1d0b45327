/**
 * One call (a POST whose whole answer is read) on undici's dispatcher API. This is the hot path
 * of a busy scheduler — one ACKNOWLEDGE per status update — so a call costs one object (this
 * handler) plus what undici needs: no per-call closures (the timer and the abort listener call
 * back into the handler), no streams, and the error text is only built when there is an error.
 *
 * Contract: settles exactly once, with a `MesosResponse` for 2xx, a `MesosHttpError` for any
 * other status (its body, at most 4 KiB, is the reason; a 307's `Location` resolved), or a
 * `MesosConnectionError` for a failed connection (`MESOS_CONNECTION_FAILED`), no answer within
 * the timeout (`MESOS_REQUEST_TIMEOUT`; the time spent waiting for a free connection counts),
 * or an abort through the signal (`MESOS_REQUEST_ABORTED`). A call that timed out or was aborted
 * is cancelled in undici: its connection is destroyed if it was on the wire.
 */
import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { MesosConnectionError, MesosHttpError } from './errors.js';
import { describeMaster, resolveLeaderLocation } from './location.js';

/** A complete answer to a call. */
export interface MesosResponse {
  status: number;
  /** Header names in lower case; repeated headers as arrays. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Most bytes of an error answer kept as its reason. */
const MAX_ERROR_BODY = 4096;
const EMPTY = Buffer.alloc(0);

/** The undici handler of one call; see the module comment. */
export class CallHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private readonly timer: NodeJS.Timeout;
  private settled = false;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] | undefined;
  private size = 0;

  constructor(
    private readonly url: URL,
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (response: MesosResponse) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.timer = setTimeout(timedOut, timeoutMs, this, timeoutMs);
    if (signal !== undefined) signal.addEventListener('abort', this, { once: true });
  }

  /** The abort signal fired (EventListener interface: no closure per call). */
  handleEvent(): void {
    const where = redact(this.url);
    this.cancel(
      new MesosConnectionError('MESOS_REQUEST_ABORTED', `request to ${where} aborted`, where, {
        cause: this.signal?.reason,
      }),
    );
  }

  /** The call's time is up: settles with MESOS_REQUEST_TIMEOUT and cancels it. */
  expire(timeoutMs: number): void {
    const where = redact(this.url);
    this.cancel(
      new MesosConnectionError(
        'MESOS_REQUEST_TIMEOUT',
        `no answer from ${where} within ${timeoutMs} ms`,
        where,
      ),
    );
  }

  /** Settles with `error` and cancels the request in undici. */
  cancel(error: Error): void {
    if (this.settled) return;
    this.fail(error);
    this.controller?.abort(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // A call that timed out or was aborted while waiting for a connection is not sent.
    if (this.settled) controller.abort(new Error('call already settled'));
    else this.controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const limit = this.isSuccess() ? Infinity : MAX_ERROR_BODY;
    if (this.size < limit) (this.chunks ??= []).push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    if (this.settled) return;
    const chunks = this.chunks;
    const body =
      chunks === undefined ? EMPTY : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    if (this.isSuccess()) {
      this.done();
      this.resolve({ status: this.status, headers: this.headers, body });
      return;
    }
    const location = this.headers.location;
    const leader =
      this.status === 307 && typeof location === 'string' && location !== ''
        ? resolveLeaderLocation(location, this.url).href
        : undefined;
    const reason = body.subarray(0, Math.min(body.length, MAX_ERROR_BODY)).toString('utf8');
    this.fail(new MesosHttpError(this.status, reason, redact(this.url), leader));
  }

  onResponseError(_controller: Dispatcher.DispatchController, cause: Error): void {
    if (this.settled) return;
    const where = redact(this.url);
    this.fail(
      new MesosConnectionError('MESOS_CONNECTION_FAILED', `POST ${where} failed: ${cause.message}`, where, {
        cause,
      }),
    );
  }

  private isSuccess(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  private fail(error: Error): void {
    this.done();
    this.reject(error);
  }

  private done(): void {
    this.settled = true;
    clearTimeout(this.timer);
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
  }
}

function timedOut(handler: CallHandler, timeoutMs: number): void {
  handler.expire(timeoutMs);
}

/** The URL as text without credentials. */
export function redact(url: URL): string {
  return `${describeMaster(url)}${url.pathname}`;
}
