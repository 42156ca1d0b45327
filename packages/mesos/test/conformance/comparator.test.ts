import { describe, expect, it } from 'vitest';
import { compareEvent, compareResponse, IdTable } from './support/compare.js';
import { CONFORMANCE_AVAILABLE } from './support/scenario.js';
import { loadTranscript, recordsOf } from './support/transcripts.js';

/**
 * The comparison the conformance suites rely on must see every kind of difference it claims to
 * check; otherwise a wrong fake would pass. Each case changes one thing in a recorded answer.
 */
describe.runIf(CONFORMANCE_AVAILABLE)('conformance comparator (fake master checks)', () => {
  const transcript = loadTranscript('14');
  const ids = new IdTable(transcript.volatile.values);
  // The "fake" side here is the recording itself, changed: its ids stand for themselves.
  for (const value of Object.values(transcript.volatile.values)) ids.link(value, value);
  const unreachable =
    recordsOf(transcript, 'S1').find((r) => r.type === 'UPDATE' && r.raw?.includes('TASK_UNREACHABLE'))
      ?.raw ?? '';
  const offers = recordsOf(transcript, 'S1').find((r) => r.type === 'OFFERS')?.raw ?? '';

  it('finds no difference between a recorded event and itself, nor in masked values (times, uuids)', () => {
    expect(compareEvent('same', unreachable, unreachable, ids)).toEqual([]);
    const otherTime = unreachable.replace(/"timestamp":[\d.]+/, '"timestamp":1.5');
    expect(compareEvent('time', unreachable, otherTime, ids)).toEqual([]);
  });

  it.each([
    ['a missing field', (raw: string) => raw.replace('"reason":"REASON_AGENT_REMOVED",', '')],
    ['another value', (raw: string) => raw.replace('health check timed out', 'health check failed')],
    [
      'another field order',
      (raw: string) =>
        raw.replace(
          '"message":"health check timed out","source":"SOURCE_MASTER"',
          '"source":"SOURCE_MASTER","message":"health check timed out"',
        ),
    ],
    [
      'an extra field',
      (raw: string) => raw.replace('"state":', '"uuid":"AAAAAAAAAAAAAAAAAAAAAA==","state":'),
    ],
  ])('reports %s in an event', (_what, change) => {
    const changed = change(unreachable);
    expect(changed).not.toBe(unreachable);
    expect(compareEvent('changed', unreachable, changed, ids)).not.toEqual([]);
  });

  it('reports a double written without its fraction (2 instead of 2.0)', () => {
    const changed = offers.replace('"scalar":{"value":2.0}', '"scalar":{"value":2}');
    expect(changed).not.toBe(offers);
    expect(compareEvent('format', offers, changed, ids).join('\n')).toContain('number formats');
  });

  it('reports status, reason, header order, header values and body differences in responses', () => {
    const recorded = transcript.exchanges.find((e) => e.response?.status === 202)?.response;
    if (recorded === undefined) throw new Error('transcript 14 has no 202');
    const same = {
      status: 202,
      statusText: recorded.status_text,
      headers: recorded.headers,
      body: recorded.body_raw ?? '',
    };
    expect(compareResponse('same', recorded, same, ids)).toEqual([]);
    expect(compareResponse('status', recorded, { ...same, status: 400 }, ids)).not.toEqual([]);
    expect(compareResponse('reason', recorded, { ...same, statusText: 'Bad Request' }, ids)).not.toEqual([]);
    expect(
      compareResponse('order', recorded, { ...same, headers: [...recorded.headers].reverse() }, ids),
    ).not.toEqual([]);
    const otherLength = recorded.headers.map(([n, v]): [string, string] => [
      n,
      n === 'Content-Length' ? '1' : v,
    ]);
    expect(compareResponse('value', recorded, { ...same, headers: otherLength }, ids)).not.toEqual([]);
    expect(
      compareResponse('body', recorded, { ...same, body: 'Framework is not connected' }, ids),
    ).not.toEqual([]);
  });
});
