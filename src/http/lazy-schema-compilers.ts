import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
type Validator = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * Fastify's own compilers (ajv for input, fast-json-stringify for output), each route's schema
 * compiled on the route's first request instead of at start: compiling every route's schema
 * up front cost about 350 ms of CPU on every `npm start`, for routes most starts never see.
 * The validation and its error format are the default ones; only the moment of compiling moves.
 */
export function lazySchemaCompilers(): CompilersFactory {
  const buildValidator = AjvCompiler();
  const buildSerializer = SerializerSelector();
  return {
    buildValidator: ((externalSchemas: Parameters<BuildValidator>[0], ajvOptions: Parameters<BuildValidator>[1]) => {
      // The ajv instance too (adding the shared schemas compiles ajv's meta-schema: about 50 ms).
      let compile: ReturnType<BuildValidator> | undefined;
      return (route: Parameters<ReturnType<BuildValidator>>[0]) => {
        let compiled: Validator | undefined;
        const validate: Validator = (data) => {
          compile ??= buildValidator(externalSchemas as never, ajvOptions as never);
          compiled ??= compile(route) as Validator;
          const result = compiled(data);
          validate.errors = compiled.errors;
          return result;
        };
        return validate as ReturnType<ReturnType<BuildValidator>>;
      };
    }) as BuildValidator,
    buildSerializer: ((externalSchemas: Parameters<BuildSerializer>[0], serializerOptions: Parameters<BuildSerializer>[1]) => {
      let compile: ReturnType<BuildSerializer> | undefined;
      return (route: Parameters<ReturnType<BuildSerializer>>[0]) => {
        let compiled: ((data: unknown) => string) | undefined;
        return (data: unknown) => {
          compile ??= buildSerializer(externalSchemas as never, serializerOptions as never);
          return (compiled ??= compile(route as never) as (data: unknown) => string)(data);
        };
      };
    }) as BuildSerializer,
  };
}
