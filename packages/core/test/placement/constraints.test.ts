import { describe, expect, it } from 'vitest';
import { formatConstraint, matchesConstraint, parseConstraint } from '@galley/core';

describe('constraints: written form', () => {
  it.each([
    ['zone:a', { attribute: 'zone', op: 'eq', value: 'a' }],
    [' zone : a ', { attribute: 'zone', op: 'eq', value: 'a' }],
    ['zone!=b', { attribute: 'zone', op: 'neq', value: 'b' }],
    ['zone in a,b', { attribute: 'zone', op: 'in', value: ['a', 'b'] }],
    ['zone in a, b ,c', { attribute: 'zone', op: 'in', value: ['a', 'b', 'c'] }],
    ['rack:us-east-1a:r1', { attribute: 'rack', op: 'eq', value: 'us-east-1a:r1' }],
  ])('parses %j', (text, constraint) => {
    expect(parseConstraint(text)).toEqual(constraint);
  });

  it.each(['zone', 'zone:', ':a', 'zone!=', 'zone in a,,b', ''])(
    'refuses %j with INVALID_CONSTRAINT',
    (text) => {
      expect(() => parseConstraint(text)).toThrow(expect.objectContaining({ code: 'INVALID_CONSTRAINT' }));
    },
  );

  it.each(['zone:a', 'zone!=b', 'zone in a,b'])('prints %j back as it was written', (text) => {
    expect(formatConstraint(parseConstraint(text))).toBe(text);
  });
});

describe('constraints: matching a node', () => {
  it.each([
    ['zone:a', { zone: 'a' }, true],
    ['zone:a', { zone: 'b' }, false],
    ['zone:a', {}, false],
    ['zone!=b', { zone: 'a' }, true],
    ['zone!=b', { zone: 'b' }, false],
    ['zone!=b', {}, true],
    ['zone in a,b', { zone: 'b' }, true],
    ['zone in a,b', { zone: 'c' }, false],
    ['zone in a,b', {}, false],
    ['constructor:x', {}, false],
  ] as [string, Record<string, string>, boolean][])('%s on %j → %s', (text, attributes, expected) => {
    expect(matchesConstraint(attributes, parseConstraint(text))).toBe(expected);
  });
});
