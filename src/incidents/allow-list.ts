import type { z } from 'zod';
import type { $ZodTypes } from 'zod/v4/core';

/**
 * A copier made from an output schema: it keeps the keys the schema's objects list, at every
 * depth, and drops everything else, like parsing with the schema, but without re-checking values
 * we built ourselves from database rows (which cost more than the rest of a list page or an
 * export together). A union takes the first option whose literals the value matches, so a
 * protected victim has to be the withheld shape, "name withheld" and all; a value that matches no
 * option throws, as parsing would.
 */
export type AllowList<Schema extends z.ZodType> = (value: unknown) => z.output<Schema>;

type Copy = (value: unknown) => unknown;

export function allowList<Schema extends z.ZodType>(schema: Schema): AllowList<Schema> {
  return copierFor(schema) as AllowList<Schema>;
}

const keep: Copy = (value) => value;

function copierFor(schema: z.core.$ZodType): Copy {
  const def = (schema as $ZodTypes)._zod.def;
  switch (def.type) {
    case 'object': {
      const fields = Object.entries(def.shape).map(([key, field]) => [key, copierFor(field)] as const);
      return (value) => {
        const source = value as Record<string, unknown>;
        const copy: Record<string, unknown> = {};
        for (const [key, copyField] of fields) if (key in source) copy[key] = copyField(source[key]);
        return copy;
      };
    }
    case 'array': {
      const copyItem = copierFor(def.element);
      return copyItem === keep ? keep : (value) => (value as unknown[]).map(copyItem);
    }
    case 'nullable':
    case 'optional': {
      const copyInner = copierFor(def.innerType);
      return copyInner === keep ? keep : (value) => (value === null || value === undefined ? value : copyInner(value));
    }
    case 'union': {
      const options = def.options.map((option) => ({ matches: literalsMatch(option), copy: copierFor(option) }));
      return (value) => {
        const option = options.find((candidate) => candidate.matches(value));
        if (!option) throw new Error('a value matches no option of its output schema');
        return option.copy(value);
      };
    }
    case 'string':
    case 'number':
    case 'boolean':
    case 'enum':
    case 'literal':
    case 'null':
      return keep;
    default:
      // Anything that may hold an object (a record, a pipe, a lazy schema...) would be let through whole.
      throw new Error(`allowList cannot follow a schema of type ${def.type}`);
  }
}

/** Whether a value has the values the literal fields of an object option require. */
function literalsMatch(option: z.core.$ZodType): (value: unknown) => boolean {
  const def = (option as $ZodTypes)._zod.def;
  if (def.type !== 'object') return () => true;
  const literals = Object.entries(def.shape).flatMap(([key, field]) => {
    const fieldDef = (field as $ZodTypes)._zod.def;
    return fieldDef.type === 'literal' ? [[key, fieldDef.values] as const] : [];
  });
  return (value) => literals.every(([key, values]) => values.includes((value as Record<string, never>)[key]));
}
