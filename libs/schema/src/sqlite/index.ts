export * from './sqlite-ddl';
export * from './sqlite-triggers';
export * from './sqlite-codec';
export * from './sqlite-upgrade';
