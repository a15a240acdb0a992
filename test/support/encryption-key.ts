/**
 * The key-encryption key of every test run (README, "Encryption at rest"): fixed, so the migrated
 * template and every database cloned from it share their data keys. vitest.config.ts passes it
 * to the test processes and, through them, to the commands they start (imports CLI, the server).
 */
export const TEST_DATA_ENCRYPTION_KEY = Buffer.alloc(32, 'dateline test key, not a secret!').toString('base64');
