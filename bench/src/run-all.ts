import { main } from './harness/main';
import { allScenarios } from './scenarios';

void main(allScenarios);
