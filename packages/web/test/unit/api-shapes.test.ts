import { describe, expect, it } from 'vitest';
import { readCluster } from '../../src/api/clusters.js';
import { errorFromResponse, normalizeFieldPath, withQuery } from '../../src/api/http.js';
import {
  formFromDefinition,
  formFromJson,
  inputFromForm,
  NEW_DEFINITION_FORM,
} from '../../src/tasks/definition-form.js';

describe('API errors', () => {
  it('reads {code, message, fields} into an ApiError with field paths the form uses', async () => {
    const response = new Response(
      JSON.stringify({
        code: 'INVALID_INPUT',
        message: 'bad task',
        fields: { '/env/0/name': 'must not be empty', memory: 'must be > 0' },
      }),
      { status: 422 },
    );
    const err = await errorFromResponse(response);
    expect(err).toMatchObject({ status: 422, code: 'INVALID_INPUT', message: 'bad task' });
    expect(err.fields).toEqual({ 'env.0.name': 'must not be empty', memory: 'must be > 0' });
  });

  it('gives a stable code to an answer without a JSON body', async () => {
    const err = await errorFromResponse(new Response('gateway down', { status: 502 }));
    expect(err).toMatchObject({ status: 502, code: 'HTTP_502', message: 'gateway down' });
  });

  it.each([
    ['body.env[2].value', 'env.2.value'],
    ['/run_tags/owner_id', 'run_tags.owner_id'],
    ['alias', 'alias'],
  ])('field path %s → %s', (from, to) => expect(normalizeFieldPath(from)).toBe(to));

  it('repeats array query keys and leaves out empty values', () => {
    expect(withQuery('/x', { status: ['A', 'B'], alias: '', owner: undefined, limit: 5 })).toBe(
      '/x?status=A&status=B&limit=5',
    );
  });
});

describe('clusters answer', () => {
  it('reads bare names (flotilla) and capacity objects (Galley)', () => {
    expect(readCluster('default')).toEqual({ name: 'default' });
    const c = readCluster({
      name: 'local',
      backend: 'local',
      capacity: { total: { cpus: 4, mem: 8192 }, used: { cpus: 1, mem: 512 } },
    });
    expect(c).toMatchObject({
      name: 'local',
      backend: 'local',
      total: { cpu: 4, memory: 8192 },
      free: { cpu: 3, memory: 7680 },
    });
  });
});

describe('task form', () => {
  it('sends numbers as numbers and leaves wrong values as typed for the server to name', () => {
    const input = inputFromForm({
      ...NEW_DEFINITION_FORM,
      alias: ' hello ',
      memory: 'lots',
      tags: 'a, b,',
      env: [{ name: '', value: '' }],
    });
    expect(input).toMatchObject({ alias: 'hello', cpu: 250, memory: 'lots', tags: ['a', 'b'], env: [] });
  });

  it('round-trips through the JSON view', () => {
    const form = formFromDefinition({
      alias: 'x',
      cpu: 500,
      memory: 64,
      env: [{ name: 'A', value: '1' }],
      tags: ['t'],
      ports: [80],
    });
    expect(formFromJson(JSON.stringify(inputFromForm(form)))).toEqual(form);
    expect(() => formFromJson('[1]')).toThrow(/object/);
  });
});
