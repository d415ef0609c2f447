/**
 * Deployed entry point: registers triageSocatFinding with functions-framework.
 * It only wires; the work is in lib/. Pub/Sub push bodies ({message,
 * subscription}) are converted by functions-framework into the same
 * CloudEvent, so one registration serves both delivery paths.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../lib/wiring.js';

ff.cloudEvent<unknown>('triageSocatFinding', cloudEventHandler(process.env));
