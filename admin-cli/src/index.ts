export { AdminApi, AdminApiError } from './admin-api';
export { buildProgram, errorLine } from './program';
