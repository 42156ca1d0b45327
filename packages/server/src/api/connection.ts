import type { FastifyRequest } from 'fastify';

/**
 * Lifts the server's idle timeout (`--http-idle-timeout-ms`) from a request's connection: for an
 * event stream or a log follower, which may send nothing for long and must stay open. (A
 * connection without a real socket, as `app.inject`'s, has nothing to lift.)
 */
export function noIdleTimeout(request: FastifyRequest): void {
  const socket = request.raw.socket as { setTimeout?: unknown } | undefined;
  if (typeof socket?.setTimeout === 'function') request.raw.socket.setTimeout(0);
}
