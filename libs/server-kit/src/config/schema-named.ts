import { schemas, type Schema } from '@outpost/schema';
import { ConfigError } from './config';

/** The synced schema a service was configured with (`SCHEMA`); an unknown name fails the start like any bad variable. */
export function schemaNamed(name: string): Schema {
  const schema = (schemas as Record<string, Schema>)[name];
  if (!schema) {
    throw new ConfigError([
      {
        env: 'SCHEMA',
        problem: `unknown schema "${name}" (expected one of ${Object.keys(schemas).join(', ')})`,
      },
    ]);
  }
  return schema;
}
