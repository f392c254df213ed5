// Imported by path for the same reason as in global-setup.ts.
import { teardownTestServices } from '../../libs/test-support/src/global-services';

export default async function globalTeardown(): Promise<void> {
  await teardownTestServices();
}
