import { defineConfig } from 'vitest/config';
import { TEST_DATA_ENCRYPTION_KEY } from './test/support/encryption-key.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    env: { DATA_ENCRYPTION_KEY: TEST_DATA_ENCRYPTION_KEY },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
