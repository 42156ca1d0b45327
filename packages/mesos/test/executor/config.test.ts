import { describe, expect, it } from 'vitest';
import { ExecutorError, executorConfigFromEnv, parseStoutDuration } from '@galley/mesos';

const ENV = {
  MESOS_FRAMEWORK_ID: 'fw-1',
  MESOS_EXECUTOR_ID: 'exec-1',
  MESOS_AGENT_ENDPOINT: '127.0.0.1:5051',
  MESOS_DIRECTORY: '/sandbox',
  MESOS_CHECKPOINT: '1',
  MESOS_RECOVERY_TIMEOUT: '15mins',
  MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
  MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
};

describe('executor configuration from the MESOS_* environment', () => {
  it.each([
    ['250ms', 250],
    ['2secs', 2000],
    ['15mins', 900_000],
    ['1.5hrs', 5_400_000],
    ['1days', 86_400_000],
    ['2weeks', 1_209_600_000],
    ['500us', 0.5],
    ['100ns', 0.0001],
  ])('parses the stout duration %s as %s ms', (text, ms) => {
    expect(parseStoutDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['2', '2 seconds', 'secs', '-1secs', ''])('rejects %j as a duration', (text) => {
    expect(parseStoutDuration(text)).toBeUndefined();
  });

  it('reads ids, the agent URL, checkpointing and the durations', () => {
    const config = executorConfigFromEnv({ ...ENV });
    expect(config).toMatchObject({
      frameworkId: 'fw-1',
      executorId: 'exec-1',
      directory: '/sandbox',
      sandbox: '/sandbox',
      checkpoint: true,
      recoveryTimeoutMs: 900_000,
      subscriptionBackoffMaxMs: 2000,
      shutdownGracePeriodMs: 5000,
      authToken: undefined,
    });
    expect(config.agentUrl.href).toBe('http://127.0.0.1:5051/api/v1/executor');
  });

  it('takes the authentication token and removes it from the environment', () => {
    const env: Record<string, string | undefined> = {
      ...ENV,
      MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'jwt.token.here',
    };
    expect(executorConfigFromEnv(env).authToken).toBe('jwt.token.here');
    expect('MESOS_EXECUTOR_AUTHENTICATION_TOKEN' in env).toBe(false);
  });

  it('defaults the recovery durations and treats a missing MESOS_CHECKPOINT as no checkpointing', () => {
    const config = executorConfigFromEnv({
      MESOS_FRAMEWORK_ID: 'f',
      MESOS_EXECUTOR_ID: 'e',
      MESOS_AGENT_ENDPOINT: 'h:1',
    });
    expect(config).toMatchObject({
      checkpoint: false,
      recoveryTimeoutMs: 900_000,
      subscriptionBackoffMaxMs: 2000,
      shutdownGracePeriodMs: 5000,
    });
  });

  it.each([
    ['MESOS_FRAMEWORK_ID', { ...ENV, MESOS_FRAMEWORK_ID: undefined }],
    ['MESOS_AGENT_ENDPOINT', { ...ENV, MESOS_AGENT_ENDPOINT: undefined }],
    ['MESOS_RECOVERY_TIMEOUT', { ...ENV, MESOS_RECOVERY_TIMEOUT: 'soon' }],
  ])('fails with EXECUTOR_BAD_CONFIG naming %s', (name, env) => {
    let caught: unknown;
    try {
      executorConfigFromEnv(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExecutorError);
    expect((caught as ExecutorError).code).toBe('EXECUTOR_BAD_CONFIG');
    expect((caught as ExecutorError).message).toContain(name);
  });
});
