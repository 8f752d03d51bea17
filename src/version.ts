/** The package version, sent as the instrumentation scope version. Kept equal to package.json by test/version.test.ts. */
export const VERSION = '0.1.0';
