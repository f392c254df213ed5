import { randomBytes } from 'node:crypto';
import type { LaunchConfig } from './launcher';
import { SERVER_SERVICES, type ServerService } from './service-process';

export interface StackPorts {
  gateway: number;
  admin: number;
  inboxStore: number;
  registryHealth: number;
  applierHealth: number;
  routerHealth: number;
}

/** Strong random values for the stack's own secrets, as a deployment must have them. */
export function generateStackSecrets(): { adminToken: string; sessionKey: string; internalToken: string } {
  const random = () => randomBytes(32).toString('base64url');
  return { adminToken: random(), sessionKey: random(), internalToken: random() };
}

/** The environment every service gets: backing services, prefixes, ports and the stack's secrets. */
export function stackEnv(config: LaunchConfig): Record<string, string> {
  return {
    DATABASE_URL: config.databaseUrl,
    AMQP_URL: config.amqpUrl,
    S3_ENDPOINT: config.s3.endpoint,
    S3_ACCESS_KEY: config.s3.accessKey,
    S3_SECRET_KEY: config.s3.secretKey,
    S3_REGION: config.s3.region,
    QUEUE_PREFIX: config.queuePrefix,
    S3_BUCKET_PREFIX: config.bucketPrefix,
    GATEWAY_PORT: String(config.ports.gateway),
    ADMIN_PORT: String(config.ports.admin),
    ADMIN_TOKEN: config.adminToken,
    SESSION_KEY: config.sessionKey,
    INTERNAL_TOKEN: config.internalToken,
    INBOX_STORE_PORT: String(config.ports.inboxStore),
    INBOX_STORE_URL: `http://127.0.0.1:${config.ports.inboxStore}`,
    ...(config.gatewayTls && {
      TLS_CERT_FILE: config.gatewayTls.certFile,
      TLS_KEY_FILE: config.gatewayTls.keyFile,
    }),
    ...config.env,
  };
}

/**
 * Where each service answers `GET /healthz` and `GET /metrics` (the gateway serves its metrics on
 * the admin port, which stays internal; the others on their health or HTTP port).
 */
export function serviceEndpoints(
  ports: StackPorts,
): Record<ServerService, { health: string; metrics: string }> {
  const local = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
  return Object.fromEntries(
    SERVER_SERVICES.map((name) => [
      name,
      {
        health: local(healthPort(name, ports), '/healthz'),
        metrics: local(name === 'sync-gateway' ? ports.admin : healthPort(name, ports), '/metrics'),
      },
    ]),
  ) as Record<ServerService, { health: string; metrics: string }>;
}

/** The port on which a service answers GET /healthz. */
export function healthPort(name: ServerService, ports: StackPorts): number {
  switch (name) {
    case 'client-registry':
      return ports.registryHealth;
    case 'inbox-store':
      return ports.inboxStore;
    case 'applier':
      return ports.applierHealth;
    case 'router':
      return ports.routerHealth;
    case 'sync-gateway':
      return ports.gateway;
  }
}

export function portEnv(name: ServerService, ports: StackPorts): Record<string, string> {
  switch (name) {
    case 'client-registry':
    case 'applier':
    case 'router':
      return { HEALTH_PORT: String(healthPort(name, ports)) };
    case 'inbox-store':
      return { INBOX_STORE_PORT: String(ports.inboxStore) };
    case 'sync-gateway':
      return { GATEWAY_PORT: String(ports.gateway), ADMIN_PORT: String(ports.admin) };
  }
}

/** The stack's ports with the ones `name` listens on replaced by a replica's own. */
export function replicaPorts(name: ServerService, ports: StackPorts, own: number, admin: number): StackPorts {
  switch (name) {
    case 'client-registry':
      return { ...ports, registryHealth: own };
    case 'inbox-store':
      return { ...ports, inboxStore: own };
    case 'applier':
      return { ...ports, applierHealth: own };
    case 'router':
      return { ...ports, routerHealth: own };
    case 'sync-gateway':
      return { ...ports, gateway: own, admin };
  }
}
