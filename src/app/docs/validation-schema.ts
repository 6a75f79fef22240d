import type { INestApplication, Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject, SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';

type Ctor = Type<unknown>;

/** JSON schema fragments of the class-validator decorators the service uses. */
const RULES: Record<string, (c: unknown[]) => SchemaObject> = {
  isString: () => ({ type: 'string' }),
  isNotEmpty: () => ({}),
  isEmail: () => ({ type: 'string', format: 'email' }),
  isUrl: () => ({ type: 'string', format: 'uri' }),
  isUUID: () => ({ type: 'string', format: 'uuid' }),
  isISO8601: () => ({ type: 'string', format: 'date-time' }),
  isDateString: () => ({ type: 'string', format: 'date-time' }),
  isInt: () => ({ type: 'integer' }),
  isNumber: () => ({ type: 'number' }),
  isBoolean: () => ({ type: 'boolean' }),
  isArray: () => ({ type: 'array' }),
  isObject: () => ({ type: 'object' }),
  isPositive: () => ({ exclusiveMinimum: true, minimum: 0 }),
  isIn: (c) => ({ enum: c[0] as unknown[] }),
  isEnum: (c) => ({ enum: Object.values(c[0] as object) }),
  minLength: (c) => ({ minLength: c[0] as number }),
  maxLength: (c) => ({ maxLength: c[0] as number }),
  isLength: (c) => ({ minLength: c[0] as number, ...(c[1] !== undefined ? { maxLength: c[1] as number } : {}) }),
  min: (c) => ({ minimum: c[0] as number }),
  max: (c) => ({ maximum: c[0] as number }),
  matches: (c) => ({ pattern: c[0] instanceof RegExp ? c[0].source : String(c[0]) }),
  arrayMinSize: (c) => ({ minItems: c[0] as number }),
  arrayMaxSize: (c) => ({ maxItems: c[0] as number }),
  arrayNotEmpty: () => ({ minItems: 1 }),
};

const DESIGN_TYPES = new Map<unknown, SchemaObject>([
  [String, { type: 'string' }],
  [Number, { type: 'number' }],
  [Boolean, { type: 'boolean' }],
  [Array, { type: 'array' }],
  [Date, { type: 'string', format: 'date-time' }],
]);

/**
 * The JSON schema of a DTO class from its class-validator decorators: types, formats, lengths,
 * ranges, patterns, enums, and which fields are required (those without `@IsOptional()`).
 */
export function schemaFromValidation(cls: Ctor): SchemaObject | undefined {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false);
  if (metas.length === 0) return undefined;
  const properties: Record<string, SchemaObject> = {};
  const optional = new Set<string>();
  for (const m of metas) {
    const prop = (properties[m.propertyName] ??= {});
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') {
      optional.add(m.propertyName);
      continue;
    }
    const rule = m.name ? RULES[m.name] : undefined;
    if (!rule) continue;
    const fragment = rule(m.constraints ?? []);
    if (m.each) {
      prop.type = 'array';
      prop.items = { ...((prop.items as SchemaObject | undefined) ?? {}), ...fragment };
    } else {
      Object.assign(prop, fragment);
    }
  }
  for (const [name, prop] of Object.entries(properties)) {
    if (prop.type) continue;
    const designed = DESIGN_TYPES.get(Reflect.getMetadata('design:type', cls.prototype, name));
    if (designed) Object.assign(prop, designed, prop);
  }
  const required = Object.keys(properties).filter((p) => !optional.has(p));
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** Every class used as a controller method parameter type (bodies, queries) in the application. */
function parameterClasses(app: INestApplication): Map<string, Ctor> {
  const found = new Map<string, Ctor>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const proto = (wrapper.metatype as Ctor | undefined)?.prototype as object | undefined;
      if (!proto) continue;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const types = (Reflect.getMetadata('design:paramtypes', proto, key) ?? []) as unknown[];
        for (const t of types) if (typeof t === 'function' && !DESIGN_TYPES.has(t)) found.set(t.name, t as Ctor);
      }
    }
  }
  return found;
}

/**
 * Fills the document's DTO schemas from class-validator metadata, so that every DTO is documented
 * without repeating each rule in `@ApiProperty()` (properties given by `@ApiProperty()` win).
 */
export function addValidationSchemas(app: INestApplication, document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const [name, cls] of parameterClasses(app)) {
    const fromValidation = schemaFromValidation(cls);
    if (!fromValidation) continue;
    const existing = (schemas[name] ?? { type: 'object' }) as SchemaObject;
    const properties = { ...(fromValidation.properties ?? {}) } as Record<string, SchemaObject>;
    for (const [p, s] of Object.entries(existing.properties ?? {})) {
      properties[p] = { ...(properties[p] ?? {}), ...(s as SchemaObject) };
    }
    const required = [...new Set([...(fromValidation.required ?? []), ...(existing.required ?? [])])];
    schemas[name] = { ...existing, type: 'object', properties, ...(required.length ? { required } : {}) };
  }
  document.components = { ...(document.components ?? {}), schemas };
}
