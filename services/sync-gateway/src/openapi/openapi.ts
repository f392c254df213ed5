import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AGENT_VERSION_FOR_DOCS } from './openapi.version';

export type ApiKind = 'agent' | 'admin';

const DESCRIPTIONS: Record<ApiKind, { title: string; description: string; auth: string }> = {
  agent: {
    title: 'Outpost agent API',
    description:
      'What sync-agent speaks to the gateway (GATEWAY_PORT): open a session with the client secret, ' +
      'upload DX files, download and acknowledge server files, close the session. Errors are ' +
      '{"error": {"code", "message", "correlationId"}}.',
    auth: 'the session token returned by POST /v1/sessions',
  },
  admin: {
    title: 'Outpost admin API',
    description:
      'What sync-admin and the admin console speak to the gateway (ADMIN_PORT): clients, server ' +
      'inboxes, lag, conflicts. Errors are {"error": {"code", "message", "correlationId"}}.',
    auth: 'the ADMIN_TOKEN',
  },
};

/** What each document describes; health, metrics and the console's files are left out. */
const API_PATHS: Record<ApiKind, RegExp> = { agent: /^\/v1\//, admin: /^\/admin\// };

/** The OpenAPI document of one listener, read from its controllers' routes and decorators. */
export function buildOpenApiDocument(app: INestApplication, kind: ApiKind): OpenAPIObject {
  const about = DESCRIPTIONS[kind];
  const config = new DocumentBuilder()
    .setTitle(about.title)
    .setDescription(about.description)
    .setVersion(AGENT_VERSION_FOR_DOCS)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: about.auth }, 'bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  document.paths = Object.fromEntries(
    Object.entries(document.paths).filter(([path]) => API_PATHS[kind].test(path)),
  );
  return document;
}

/** Serves the document at GET /openapi.json on this listener. */
export function serveOpenApiDocument(app: INestApplication, kind: ApiKind): void {
  const document = buildOpenApiDocument(app, kind);
  app
    .getHttpAdapter()
    .get('/openapi.json', (_req: unknown, res: { json(body: unknown): void }) => res.json(document));
}
