export * from './http';
export * from './rmq';
export * from './error-codes';
export * from './client-name';
export * from './refusal';
