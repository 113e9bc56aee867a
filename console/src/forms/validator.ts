// The record form's validator for react-jsonschema-form without code generation: @cfworker/json-schema
// interprets the JSON Schema (draft 2020-12, the platform's export) instead of compiling it into a
// function as ajv does, so the console's CSP needs no 'unsafe-eval'. Messages are the console's own, in
// the user's language, naming the limit the schema sets. The server still decides on save.
import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema'
import {
  createErrorHandler, toErrorSchema, unwrapErrorHandler, validationDataMerge,
  type CustomValidator, type ErrorTransformer, type RJSFSchema, type RJSFValidationError, type UiSchema,
  type ValidationData, type ValidatorType,
} from '@rjsf/utils'
import i18n from '../lib/i18n'

// keywords that only say "something below failed": the failure below is the one to show
const STRUCTURAL = new Set(['properties', 'items', 'prefixItems', 'allOf', '$ref', '$dynamicRef', 'if', 'then', 'else',
  'dependentSchemas', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'false', 'patternProperties'])
const INSIDE_A_BRANCH = /\/(anyOf|oneOf)\/\d+\//

const validators = new WeakMap<object, Validator>()

function validatorFor(schema: Schema): Validator {
  let v = validators.get(schema)
  if (!v) {
    // the library annotates the schema it dereferences: give it a copy, never RJSF's object
    v = new Validator(structuredClone(schema), '2020-12', false)
    validators.set(schema, v)
  }
  return v
}

function at(schema: unknown, pointer: string): unknown {
  let node: any = schema
  for (const raw of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    if (node == null || typeof node !== 'object') return undefined
    node = node[key]
  }
  return node
}

/** '#/parts/0/qty' → ['parts', '0', 'qty'] */
const segments = (location: string) =>
  location.replace(/^#\/?/, '').split('/').filter(Boolean).map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))

function message(unit: OutputUnit, schema: Schema, t: (key: string, options?: Record<string, unknown>) => string): string {
  const limit = at(schema, unit.keywordLocation)
  switch (unit.keyword) {
    case 'required': return t('validation.required')
    case 'type': return t('validation.type')
    case 'minLength': return t('validation.minLength', { limit })
    case 'maxLength': return t('validation.maxLength', { limit })
    case 'minimum': return t('validation.minimum', { limit })
    case 'maximum': return t('validation.maximum', { limit })
    case 'exclusiveMinimum': return t('validation.exclusiveMinimum', { limit })
    case 'exclusiveMaximum': return t('validation.exclusiveMaximum', { limit })
    case 'minItems': return t('validation.minItems', { limit })
    case 'maxItems': return t('validation.maxItems', { limit })
    case 'pattern': case 'format': return t('validation.format')
    case 'enum': case 'const': case 'oneOf': case 'anyOf': return t('validation.option')
    case 'uniqueItems': return t('validation.unique')
    case 'additionalProperties': return t('validation.unknown')
    default: return unit.error
  }
}

/** The library's output units as RJSF errors: leaf failures only, `required` placed at the missing field. */
export function toRjsfErrors(units: OutputUnit[], schema: Schema, t = i18n.t.bind(i18n)): RJSFValidationError[] {
  const out: RJSFValidationError[] = []
  const seen = new Set<string>()
  for (const unit of units) {
    if (STRUCTURAL.has(unit.keyword) || INSIDE_A_BRANCH.test(unit.keywordLocation)) continue
    const path = segments(unit.instanceLocation)
    const params: Record<string, unknown> = {}
    if (unit.keyword === 'required') {
      const missing = /required property "(.*)"/.exec(unit.error)?.[1]
      if (missing === undefined) continue
      path.push(missing)
      params.missingProperty = missing
    }
    const property = path.length ? `.${path.join('.')}` : ''
    const text = message(unit, schema, t)
    const key = `${property}|${text}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ name: unit.keyword, property, message: text, params, stack: `${property.slice(1) || '/'} ${text}`, schemaPath: unit.keywordLocation })
  }
  return out
}

export class InterpretingValidator<T = any> implements ValidatorType<T, RJSFSchema, any> {
  rawValidation<Result = any>(schema: RJSFSchema, formData?: T): { errors?: Result[]; validationError?: Error } {
    try {
      const result = validatorFor(schema as Schema).validate(formData)
      return { errors: result.valid ? undefined : (result.errors as Result[]) }
    } catch (error) {
      return { validationError: error as Error }
    }
  }

  validateFormData(formData: T | undefined, schema: RJSFSchema, customValidate?: CustomValidator<T, RJSFSchema, any>,
    transformErrors?: ErrorTransformer<T, RJSFSchema, any>, uiSchema?: UiSchema<T, RJSFSchema, any>): ValidationData<T> {
    const raw = this.rawValidation<OutputUnit>(schema, formData)
    let errors = raw.validationError
      ? [{ name: 'schema', property: '', message: raw.validationError.message, stack: raw.validationError.message }]
      : toRjsfErrors(raw.errors ?? [], schema as Schema)
    if (typeof transformErrors === 'function') errors = transformErrors(errors, uiSchema)
    let data: ValidationData<T> = { errors, errorSchema: toErrorSchema<T>(errors) }
    if (typeof customValidate === 'function') {
      const handler = customValidate(formData, createErrorHandler<T>(formData as T), uiSchema)
      data = validationDataMerge<T>(data, unwrapErrorHandler<T>(handler))
    }
    return data
  }

  isValid(schema: RJSFSchema, formData: T | undefined, rootSchema: RJSFSchema): boolean {
    try {
      // a sub-schema may point into the root's definitions: validate against a copy that carries them
      const withDefs = rootSchema && schema !== rootSchema && (rootSchema as any).$defs && !(schema as any).$defs
        ? { ...schema, $defs: (rootSchema as any).$defs } : schema
      return validatorFor(withDefs as Schema).validate(formData).valid
    } catch {
      return false
    }
  }

  reset(): void {}
}

const validator = new InterpretingValidator()
export default validator
