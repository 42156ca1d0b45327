/**
 * Attribute constraints: parse the written form, print it back, and test a node's attributes.
 */
import { CoreInputError } from '../errors.js';
import type { Constraint, Demand, Node } from './model.js';

const NAME = /^[A-Za-z0-9_.\-/]+$/;

function invalid(text: string, why: string): never {
  throw new CoreInputError('INVALID_CONSTRAINT', `constraint "${text}" ${why}`);
}

/**
 * Parses `zone:a` (eq), `zone!=b` (neq) or `zone in a,b` (in). Whitespace around parts is ignored.
 * Throws {@link CoreInputError} `INVALID_CONSTRAINT` for anything else.
 */
export function parseConstraint(text: string): Constraint {
  const trimmed = text.trim();
  const inMatch = /^(\S+)\s+in\s+(.+)$/.exec(trimmed);
  let constraint: Constraint;
  if (inMatch) {
    const values = (inMatch[2] as string).split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) invalid(text, 'has an empty value in its list');
    constraint = { attribute: inMatch[1] as string, op: 'in', value: values };
  } else if (trimmed.includes('!=')) {
    const [attribute, value] = trimmed.split('!=', 2).map((part) => part.trim()) as [string, string];
    constraint = { attribute, op: 'neq', value };
  } else if (trimmed.includes(':')) {
    const at = trimmed.indexOf(':');
    constraint = { attribute: trimmed.slice(0, at).trim(), op: 'eq', value: trimmed.slice(at + 1).trim() };
  } else {
    return invalid(text, "is not one of 'attr:value', 'attr!=value', 'attr in v1,v2'");
  }
  if (!NAME.test(constraint.attribute)) invalid(text, 'has no valid attribute name');
  const values = typeof constraint.value === 'string' ? [constraint.value] : constraint.value;
  if (values.some((v) => v === '')) invalid(text, 'has an empty value');
  return constraint;
}

/** The written form of a constraint, as `parseConstraint` reads it: `zone:a`, `zone!=b`, `zone in a,b`. */
export function formatConstraint(constraint: Constraint): string {
  switch (constraint.op) {
    case 'eq':
      return `${constraint.attribute}:${constraint.value}`;
    case 'neq':
      return `${constraint.attribute}!=${constraint.value}`;
    case 'in':
      return `${constraint.attribute} in ${constraint.value.join(',')}`;
  }
}

/** Whether a node's attributes meet the constraint. `neq` holds on a node without the attribute. */
export function matchesConstraint(attributes: Record<string, string>, constraint: Constraint): boolean {
  const actual = Object.hasOwn(attributes, constraint.attribute)
    ? attributes[constraint.attribute]
    : undefined;
  switch (constraint.op) {
    case 'eq':
      return actual === constraint.value;
    case 'neq':
      return actual !== constraint.value;
    case 'in':
      return actual !== undefined && constraint.value.includes(actual);
  }
}

/** A demand with a role lands only on a node of that role; a demand without one lands anywhere. */
export function matchesRole(demand: Demand, node: Node): boolean {
  return demand.role === undefined || node.role === demand.role;
}

/** Whether the node meets the demand's role and every one of its constraints. */
export function isEligible(demand: Demand, node: Node): boolean {
  return (
    matchesRole(demand, node) &&
    (demand.constraints ?? []).every((c) => matchesConstraint(node.attributes, c))
  );
}
