/**
 * jest setupFiles: a safety net so no test can make google-auth-library probe
 * the metadata server (169.254.169.254) or the network for credentials. The
 * tests point every client at a loopback emulator; this catches a mistake.
 */
process.env.METADATA_SERVER_DETECTION = 'none';
process.env.GOOGLE_CLOUD_PROJECT ??= 'offline-test-project';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
