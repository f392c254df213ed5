import { httpMetricsMiddleware, syncMetrics } from '@outpost/server-kit';

/** The agents' routes, as the metrics name them. */
function routeOf(method: string, path: string): string {
  if (method === 'POST' && path === '/v1/sessions') return 'session-open';
  // A file in parts counts once, when it is completed; its parts have their own route.
  if (method === 'PUT' && /^\/v1\/upload\/\d+$/.test(path)) return 'upload';
  if (method === 'POST' && /^\/v1\/upload\/\d+\/complete$/.test(path)) return 'upload';
  if (method === 'PUT' && /^\/v1\/upload\/\d+\/parts\/\d+$/.test(path)) return 'upload-part';
  if (method === 'GET' && /^\/v1\/download\/\d+$/.test(path)) return 'download';
  if (path.startsWith('/v1/')) return 'agent-other';
  if (path.startsWith('/admin/')) return 'admin';
  return 'other';
}

function onResponse(route: string, status: number): void {
  const ok = status >= 200 && status < 300;
  const refused = status >= 400 && status < 500;
  if (route === 'session-open') {
    if (ok) syncMetrics.sessionsOpened.inc();
    else if (refused) syncMetrics.sessionsRefused.inc({ status: String(status) });
  } else if (route === 'upload') {
    if (ok) syncMetrics.filesReceived.inc();
    else if (refused) syncMetrics.filesRefused.inc({ status: String(status) });
  } else if (route === 'download' && ok) {
    syncMetrics.filesSent.inc();
  }
}

/** Sessions, files and bytes of the agents' traffic, for GET /metrics on the admin port. */
export const gatewayMetricsMiddleware = httpMetricsMiddleware(routeOf, onResponse);
