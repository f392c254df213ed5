// jest loads its global setup outside the test module registry, so the @outpost/* name mapping
// does not apply here; importing the source keeps `npx jest` working without a prior build.
import { setupTestServices } from '../../libs/test-support/src/global-services';

export default async function globalSetup(): Promise<void> {
  await setupTestServices((line) => process.stdout.write(`\n${line}\n`));
}
