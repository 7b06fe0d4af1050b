/**
 * A compiled fast path for `plainToInstance` + `validateSync` of notification resources, read from the same
 * class-validator metadata. Kept under the architecture's rule (>= 10 % end to end, isolated behind a compatibility
 * test): on the HTTP notification bench it gains 15-17 % throughput on Express and Fastify over calling
 * class-transformer and class-validator directly (BENCHMARKS.md). `resource-reader.spec.ts` is the compatibility
 * test: for random valid and invalid resources it must decide exactly as class-transformer + class-validator and
 * build the same instance. Anything the fast path does not model, and every resource it does not accept, goes
 * through class-transformer and class-validator, which decide.
 */
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  type ValidationArguments,
  ValidationTypes,
  type ValidationError,
  validateSync,
} from 'class-validator';

/** A DTO class with a no-argument constructor. */
export type ResourceClass<T extends object = object> = new () => T;

interface ConstraintCall {
  validate(value: unknown, args: ValidationArguments): unknown;
  property: string;
  constraints: unknown[];
  each: boolean;
  validateIf?: (object: object, value: unknown) => boolean;
}

interface PropertyPlan {
  name: string;
  conditions: Array<(object: object, value: unknown) => boolean>;
  calls: ConstraintCall[];
  nested: boolean;
}

interface ClassPlan {
  cls: ResourceClass;
  /** False when the class uses something the fast path does not model: always take the class-validator path. */
  fast: boolean;
  properties: PropertyPlan[];
  /** Nested DTO class of a property, from `design:type` of a `@ValidateNested()` property. */
  nestedTypes: Map<string, ResourceClass>;
}

const plans = new WeakMap<ResourceClass, ClassPlan>();
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

/**
 * Reads class-validator's metadata of a class once, as `validateSync` would see it without groups, so that the
 * decorators stay the single source of the rules.
 */
function plan(cls: ResourceClass): ClassPlan {
  let p = plans.get(cls);
  if (p) return p;
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(cls, '', false, false, undefined);
  p = { cls, fast: metadatas.length > 0, properties: [], nestedTypes: new Map() };
  plans.set(cls, p);
  for (const [name, list] of Object.entries(storage.groupByPropertyName(metadatas))) {
    const prop: PropertyPlan = { name, conditions: [], calls: [], nested: false };
    for (const m of list) {
      if (m.type === ValidationTypes.CONDITIONAL_VALIDATION)
        prop.conditions.push(m.constraints[0] as PropertyPlan['conditions'][number]);
      else if (m.type === ValidationTypes.NESTED_VALIDATION) {
        prop.nested = true;
        const type: unknown = Reflect.getMetadata('design:type', cls.prototype, name);
        if (
          typeof type === 'function' &&
          type !== Array &&
          type !== Object &&
          getMetadataStorage().getTargetValidationMetadatas(type, '', false, false, undefined).length
        ) {
          p.nestedTypes.set(name, type as ResourceClass);
        } else p.fast = false;
      } else if (m.type === ValidationTypes.CUSTOM_VALIDATION || m.type === ValidationTypes.IS_DEFINED) {
        for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) {
          if (c.async) p.fast = false;
          const instance = c.instance as { validate(value: unknown, args: ValidationArguments): unknown };
          prop.calls.push({
            validate: instance.validate.bind(instance),
            property: name,
            constraints: m.constraints,
            each: m.each,
            validateIf: m.validateIf,
          });
        }
      } else if (m.type !== ValidationTypes.WHITELIST) p.fast = false;
    }
    p.properties.push(prop);
  }
  for (const nested of p.nestedTypes.values()) if (!plan(nested).fast) p.fast = false;
  return p;
}

/** `plainToInstance` for JSON data and classes whose nested types are all `@ValidateNested()` DTOs. */
function instantiate(p: ClassPlan, plain: Record<string, unknown>): object | undefined {
  const out = new p.cls() as Record<string, unknown>;
  for (const key of Object.keys(plain)) {
    if (UNSAFE_KEYS.has(key)) return undefined;
    const v = plain[key];
    const nested = p.nestedTypes.get(key);
    if (nested && isPlainObject(v)) {
      const child = instantiate(plan(nested), v);
      if (!child) return undefined;
      out[key] = child;
    } else if (nested && v !== null && typeof v === 'object') return undefined;
    else out[key] = v;
  }
  return out;
}

/** Calls one constraint; `args` is one object per validated object, updated in place (validators only read it). */
function callOk(call: ConstraintCall, object: object, value: unknown, args: ValidationArguments): boolean {
  if (call.validateIf && !call.validateIf(object, value)) return true;
  args.property = call.property;
  args.value = value;
  args.constraints = call.constraints;
  if (call.each && Array.isArray(value)) return value.every((v) => call.validate(v, args) === true);
  return call.validate(value, args) === true;
}

function nestedOk(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.every((v) => nestedOk(v));
  if (!(value instanceof Object) || isPlainObject(value)) return false;
  return valid(plan(value.constructor as ResourceClass), value);
}

/** The checks of `validateSync(instance, { forbidUnknownValues: true })`, as a boolean. */
function valid(p: ClassPlan, object: object): boolean {
  const properties = p.properties;
  if (!properties.length) return false;
  const args: ValidationArguments = {
    targetName: p.cls.name,
    property: '',
    object,
    value: undefined,
    constraints: [],
  };
  // Plain loops: this runs for every notification.
  outer: for (let i = 0; i < properties.length; i++) {
    const prop = properties[i];
    const value = (object as Record<string, unknown>)[prop.name];
    for (let c = 0; c < prop.conditions.length; c++) if (!prop.conditions[c](object, value)) continue outer;
    for (let c = 0; c < prop.calls.length; c++) if (!callOk(prop.calls[c], object, value, args)) return false;
    if (prop.nested && !nestedOk(value)) return false;
  }
  return true;
}

/** Field paths of class-validator errors: names only, never values. */
function invalidFields(errors: ValidationError[], prefix = '', out: string[] = []): string[] {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints && Object.keys(e.constraints).length) out.push(field);
    if (e.children?.length) invalidFields(e.children, field, out);
  }
  return out;
}

/** Outcome of `readResource`. */
export type ReadResult<T> = { ok: true; value: T } | { ok: false; invalidFields: string[] };

/**
 * `plainToInstance` + `validateSync(…, { forbidUnknownValues: true })` of parsed JSON, with unknown fields kept.
 * A compiled fast path, read from the same decorators, accepts valid input without class-validator's per-call
 * metadata lookups; anything it does not accept goes through class-transformer and class-validator, which decide.
 */
export function readResource<T extends object>(
  cls: ResourceClass<T>,
  plain: Record<string, unknown>,
): ReadResult<T> {
  const p = plan(cls);
  if (p.fast) {
    const instance = instantiate(p, plain);
    if (instance && valid(p, instance)) return { ok: true, value: instance as T };
  }
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, { forbidUnknownValues: true });
  return errors.length ? { ok: false, invalidFields: invalidFields(errors) } : { ok: true, value: instance };
}
