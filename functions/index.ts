/**
 * Deployed entry point: registers triageSocatFinding with functions-framework.
 * It only wires; the work is in lib/. Pub/Sub push bodies ({message,
 * subscription}) are converted by functions-framework into the same
 * CloudEvent, so one registration serves both delivery paths.
 *
 * It also re-exports what the hostile suites drive the function through
 * (test/hostile/under-test.ts), so that they can run against the deployed
 * bundle itself, not a build of their own: the bundle is what is tested.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler, responderCloudEventHandler } from '../lib/wiring.js';

ff.cloudEvent<unknown>('triageSocatFinding', cloudEventHandler(process.env));
// The approval path (issue #15): deployed as its own function, with its own service account, when enable_response is set.
ff.cloudEvent<unknown>('respondSocatFinding', responderCloudEventHandler(process.env));

export { cloudEventHandler, createInstance, createResponderInstance, responderCloudEventHandler } from '../lib/wiring.js';
export { handleDelivery } from '../lib/handler.js';
export { RetryableFailure } from '../lib/outcome.js';
export { parseConfig } from '../lib/config.js';
export { createLogger } from '../lib/logger.js';
export { createInstanceCache } from '../lib/gather/cache.js';
export { createPubSubClient, createSccClient } from '../lib/clients.js';
