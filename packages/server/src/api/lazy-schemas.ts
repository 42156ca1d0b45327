/**
 * Fastify compiles every route's validators (ajv) and response serializers
 * (fast-json-stringify) before the server listens: about 0.85 s of CPU at each start, for routes a
 * session may never call. These compilers are fastify's own, each route's compiled at its first
 * request instead: `/health` answers without waiting for the rest, and a schema is still compiled
 * once. A route's schema that does not compile would fail that route's requests rather than the
 * start: test/api/lazy-schemas.test.ts compiles them all (compilePendingSchemas).
 */
import ajvCompilerFactory from '@fastify/ajv-compiler';
import serializerCompilerFactory from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

// fastify's own compilers: this package depends on them in the ranges fastify does, so npm keeps
// one copy, which the bundle (scripts/bundle.mjs) holds once for fastify and for this module.
type Factory = (...args: unknown[]) => (route: unknown) => unknown;
const ajvCompiler = ajvCompilerFactory as unknown as () => Factory;
const serializerCompiler = serializerCompilerFactory as unknown as () => Factory;

/** The compilations not done yet, of every server in this process (see compilePendingSchemas). */
const pending = new Set<() => void>();

/**
 * Compiles now every schema not compiled yet, and answers how many: a test's proof that every
 * route's schemas compile (they would otherwise fail only at the route's first request).
 */
export function compilePendingSchemas(): number {
  const all = [...pending];
  for (const compile of all) compile();
  return all.length;
}

/** `compile()` once, at the first call of the answered function or by compilePendingSchemas. */
function once<F>(compile: () => F): () => F {
  let fn: F | undefined;
  const get = () => {
    if (fn === undefined) {
      fn = compile();
      pending.delete(ensure);
    }
    return fn;
  };
  const ensure = () => void get();
  pending.add(ensure);
  return get;
}

/** A validator that compiles at its first call; ajv's `errors` are passed on as fastify reads them. */
function lazyValidator(compile: () => ((data: unknown) => unknown) & { errors?: unknown }) {
  const compiled = once(compile);
  const validate = (data: unknown) => {
    const fn = compiled();
    const result = fn(data);
    validate.errors = fn.errors;
    return result;
  };
  validate.errors = undefined as unknown;
  return validate;
}

/** The `schemaController.compilersFactory` of Fastify's options. */
export function lazyCompilersFactory(): CompilersFactory {
  const validators = ajvCompiler();
  const serializers = serializerCompiler();
  const factory = {
    buildValidator(...args: unknown[]) {
      const compilerOf = validators(...args);
      return (route: unknown) =>
        lazyValidator(() => compilerOf(route) as ((data: unknown) => unknown) & { errors?: unknown });
    },
    buildSerializer(...args: unknown[]) {
      const compilerOf = serializers(...args);
      return (route: unknown) => {
        const compiled = once(() => compilerOf(route) as (data: unknown) => string);
        return (data: unknown) => compiled()(data);
      };
    },
  };
  return factory as unknown as CompilersFactory;
}
