import type { RunStatus } from '@galley/core';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunRepository } from '../store/store.js';

/**
 * Galley's Prometheus metrics, in a registry of its own (no global state):
 * `galley_runs{status}` and `galley_queue_depth` read from the store at scrape time,
 * `galley_dispatch_latency_ms` (execute accepted → PENDING stored), and
 * `galley_http_requests_total{method,route,status}` / `galley_http_request_duration_seconds`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly dispatchLatency: Histogram;
  private readonly httpRequests: Counter;
  private readonly httpDuration: Histogram;
  private counts: { at: number; value: Promise<Record<RunStatus, number>> } | null = null;

  constructor(private readonly store: RunRepository) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'galley_process_' });
    const counts = () => this.runCounts();
    new Gauge({
      name: 'galley_runs',
      help: 'Runs by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        for (const [status, n] of Object.entries(await counts())) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'galley_queue_depth',
      help: 'Runs waiting to be placed (QUEUED).',
      registers,
      async collect() {
        this.set((await counts()).QUEUED);
      },
    });
    this.dispatchLatency = new Histogram({
      name: 'galley_dispatch_latency_ms',
      help: 'From an execute accepted (queued_at) to its launch stored (PENDING), in milliseconds.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'galley_http_requests_total',
      help: 'HTTP requests by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'galley_http_request_duration_seconds',
      help: 'HTTP request durations by route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
  }

  /** One count query per scrape, shared by the gauges. */
  private runCounts() {
    const now = Date.now();
    if (!this.counts || now - this.counts.at > 100)
      this.counts = { at: now, value: this.store.countRunsByStatus() };
    return this.counts.value;
  }

  /** Counts every request (by route pattern, so ids do not explode the label set) and serves GET /metrics. */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
      this.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', this.registry.contentType);
      return this.registry.metrics();
    });
  }
}
