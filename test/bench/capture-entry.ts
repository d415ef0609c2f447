/**
 * The capture action as the deployed bundle will carry it, for
 * test/bench/bundle-capture.test.ts: built with scripts/build-bundle.mjs
 * --entry, so the Compute protos are trimmed to the RPCs lib/respond/capture.ts
 * calls and the clients load from the bundle's lazy chunks.
 */
export { createComputeClients, createStorageClient } from '../../lib/clients.js';
export { executeCapture, planCapture } from '../../lib/respond/capture.js';
