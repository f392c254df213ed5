/** One jest run: unit specs beside the code, integration and end-to-end tests under tests/. */
const moduleNameMapper = {
  '^@outpost/(dx-format|schema|contracts|server-kit|server-db|storage|test-support)$':
    '<rootDir>/libs/$1/src',
  '^@outpost/client-agent$': '<rootDir>/client-agent/src',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] };

module.exports = {
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      // Property tests and stream tests take a few seconds of CPU; a busy CI machine may stretch that.
      testTimeout: 30_000,
      testMatch: [
        '<rootDir>/{libs,services}/*/src/**/*.spec.ts',
        '<rootDir>/{client-agent,admin-cli,bench}/src/**/*.spec.ts',
      ],
      testEnvironment: 'node',
      moduleNameMapper,
      transform,
    },
    {
      displayName: 'integration',
      rootDir: __dirname,
      testMatch: ['<rootDir>/tests/**/*.test.ts'],
      testEnvironment: 'node',
      moduleNameMapper,
      transform,
      globalSetup: '<rootDir>/tests/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/support/jest-setup.ts'],
    },
  ],
};
