/** A schema definition that cannot be used; `problems` lists every one found, not only the first. */
export class SchemaError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid schema definition:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SchemaError';
  }
}
