// End-to-end tests start processes and wait for asynchronous effects; jest ignores a per-project
// testTimeout. This is the default: a test whose length follows its size (the storm, the
// convergence run) passes its own timeout to `it`, and OUTPOST_TEST_TIMEOUT_MS raises the default.
jest.setTimeout(Number(process.env.OUTPOST_TEST_TIMEOUT_MS ?? 600_000));
