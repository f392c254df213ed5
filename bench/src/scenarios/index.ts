import type { Scenario } from '../harness/scenario';
import { appWritersScenario } from './app-writers';
import { captureScenario } from './capture';
import { downloadScenario } from './download';
import { extractScenario } from './extract';
import { ingestScenario } from './ingest';
import { roundTripScenario } from './round-trip';
import { concurrencyScenario } from './concurrency';
import { memoryScenario } from './memory';
import { uploadScenario } from './upload';

/** In the order `npm run bench` runs them: local ones first, the heaviest last. */
export const allScenarios: Scenario[] = [
  captureScenario,
  appWritersScenario,
  downloadScenario,
  uploadScenario,
  ingestScenario,
  extractScenario,
  roundTripScenario,
  concurrencyScenario,
  memoryScenario,
];
