// End-to-end tests start processes and wait for asynchronous effects; jest ignores a per-project testTimeout.
jest.setTimeout(180_000);
