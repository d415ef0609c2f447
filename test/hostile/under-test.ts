/**
 * What the hostile suites drive the function through: the deployed entry
 * point's exports (functions/index.ts), from dist/ by default, or from the
 * built bundle when SCC_TRIAGE_UNDER_TEST=bundle:DIR (DIR inside the project,
 * so the bundle's one external import, functions-framework, resolves).
 * test/bench/bundle.test.ts builds the deployed bundle and runs the fault
 * matrix, the notification fuzzer, the injection, secrets and delivery suites
 * again with it: the same assertions, against the artifact Cloud Run runs,
 * with its trimmed protos, trimmed client-node and patched dependencies.
 *
 * Each suite that loads the bundle appends its path to DIR/loaded-by.txt,
 * which is how bundle.test.ts knows the bundle, not dist/, was exercised.
 */
import { expect } from '@jest/globals';
import { appendFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Entry from '../../functions/index.js';
import { projectRoot } from '../support/fixtures.js';
import { LOADED_BY_FILE, UNDER_TEST_ENV } from './support.js';

async function load(): Promise<{ entry: typeof Entry; from: 'dist' | 'bundle' }> {
  const spec = process.env[UNDER_TEST_ENV] ?? '';
  if (spec === '' || spec === 'dist') return { entry: await import('../../functions/index.js'), from: 'dist' };
  const m = /^bundle:(.+)$/.exec(spec);
  if (!m || !isAbsolute(m[1]!) || relative(projectRoot(), m[1]!).startsWith('..')) {
    throw new Error(`${UNDER_TEST_ENV} must be "dist" or "bundle:DIR" with DIR an absolute path inside the project, got ${JSON.stringify(spec)}`);
  }
  // function.mjs, not index.mjs: the compile-cache loader in front of it only changes how fast V8 gets the code.
  const entry = (await import(pathToFileURL(join(m[1]!, 'function.mjs')).href)) as typeof Entry;
  appendFileSync(join(m[1]!, LOADED_BY_FILE), `${relative(projectRoot(), expect.getState().testPath ?? '?')}\n`);
  return { entry, from: 'bundle' };
}

const loaded = await load();

/** Where the code under test came from, for the suites' figures and failure messages. */
export const underTest = loaded.from;
export const { cloudEventHandler, createInstance, handleDelivery, RetryableFailure, parseConfig, createLogger, createInstanceCache, createPubSubClient, createSccClient } = loaded.entry;
