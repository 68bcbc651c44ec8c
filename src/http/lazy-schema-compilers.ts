import { createRequire } from 'node:module';
import type { AjvCompiler } from '@fastify/ajv-compiler';
import type { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

const require = createRequire(import.meta.url);

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
type Validator = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * Fastify's own compilers (ajv for input, fast-json-stringify for output), each route's schema
 * compiled on the route's first request instead of at start: compiling every route's schema
 * up front cost about 350 ms of CPU on every `npm start`, for routes most starts never see.
 * The validation and its error format are the default ones; only the moment of compiling moves.
 * The compilers themselves (ajv with its JTD build, fast-json-stringify: about 170 files) are
 * loaded then too, synchronously (the first call is inside a request's validation).
 */
export function lazySchemaCompilers(): CompilersFactory {
  let validators: ReturnType<typeof AjvCompiler> | undefined;
  let serializers: ReturnType<typeof SerializerSelector> | undefined;
  const buildValidator = (externalSchemas: unknown, options: unknown): ReturnType<BuildValidator> => {
    validators ??= (require('@fastify/ajv-compiler') as { AjvCompiler: typeof AjvCompiler }).AjvCompiler();
    return (validators as unknown as (schemas: unknown, options: unknown) => ReturnType<BuildValidator>)(externalSchemas, options);
  };
  const buildSerializer = (externalSchemas: unknown, options: unknown): ReturnType<BuildSerializer> => {
    serializers ??= (require('@fastify/fast-json-stringify-compiler') as { SerializerSelector: typeof SerializerSelector }).SerializerSelector();
    return (serializers as unknown as (schemas: unknown, options: unknown) => ReturnType<BuildSerializer>)(externalSchemas, options);
  };
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
