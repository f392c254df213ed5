import { fieldServiceHistory } from './field-service.schema';
import type { SchemaHistory } from './history';
import { salesHistory } from './sales.schema';
import type { Schema } from './types';

/** Every schema this build knows, by name: the value `SCHEMA` (and `sync-agent init --schema`) picks from. */
export const schemas: Readonly<Record<string, SchemaHistory>> = {
  sales: salesHistory,
  field_service: fieldServiceHistory,
};

/** A schema and the version of it a deployment runs. */
export interface SchemaSelection {
  history: SchemaHistory;
  version: number;
  schema: Schema;
}

/**
 * `name` (the latest version) or `name@version` (a version pinned, to upgrade the server one
 * version at a time or to hold it back); throws an Error saying what is wrong.
 */
export function selectSchema(spec: string): SchemaSelection {
  const m = /^([a-z][a-z0-9_]*)(?:@(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`"${spec}" is not a schema name or name@version`);
  const history = schemas[m[1]];
  if (!history) throw new Error(`unknown schema "${m[1]}" (one of ${Object.keys(schemas).join(', ')})`);
  const version = m[2] === undefined ? history.latest.version : Number(m[2]);
  if (version < 1 || version > history.latest.version)
    throw new Error(`schema ${history.name} has versions 1 to ${history.latest.version}, not ${version}`);
  return { history, version, schema: history.at(version) };
}
