/**
 * The function's runtime environment holds only variables lib/config.ts reads
 * (CONFIG_ENV_VARS), and all of those that make sense in production. When
 * CONFIG_ENV_VARS gains a variable (time windows, verdict weights, ...), the
 * completeness test fails until the module sets it from a typed variable, or
 * the variable is added to DEV_ONLY below with the reason.
 */
import * as config from '../../lib/config.js';
import { CONFIG_ENV_VARS } from '../../lib/config.js';
import { firstBody, isBody, loadModule, referencesIn, terraformDir, type Body, type TfModule } from './support.js';

/** CONFIG_ENV_VARS the deployed triage function must not get, and why. */
const DEV_ONLY: Record<string, string> = {
  SCC_EMULATOR_HOST: 'loopback SCC emulator for tests and the demo',
  GKE_EMULATOR_HOST: 'loopback GKE emulator for tests and the demo',
  LOGGING_EMULATOR_HOST: 'loopback Logging emulator for tests and the demo',
  CONTACTS_EMULATOR_HOST: 'loopback Essential Contacts emulator for tests and the demo',
  PUBSUB_EMULATOR_HOST: 'loopback Pub/Sub emulator for tests and the demo',
  COMPUTE_EMULATOR_HOST: 'loopback Compute emulator for tests and the demo (capture action)',
  STORAGE_EMULATOR_HOST: 'loopback Cloud Storage emulator for tests and the demo (capture action)',
  EVIDENCE_BUCKET: "the responder's (capture action), not the triage function's: set on the responder by enable_response (issue #15)",
};

let mod: TfModule;
let environment: Body;

beforeAll(async () => {
  mod = await loadModule(terraformDir);
  const fn = mod.resources.get('google_cloudfunctions2_function.triage');
  if (!fn) throw new Error('google_cloudfunctions2_function.triage not found');
  const value = firstBody(fn.body['service_config'])['environment_variables'];
  // Either an object literal, or a reference to one local holding it.
  if (isBody(value)) {
    environment = value;
  } else {
    const refs = await referencesIn(value ?? null);
    const local = refs.length === 1 && refs[0]?.startsWith('local.') ? mod.locals.get(refs[0].split('.')[1]!) : undefined;
    if (!isBody(local)) throw new Error(`environment_variables must be an object literal or a local holding one, got ${JSON.stringify(value)}`);
    environment = local;
  }
});

const documented = CONFIG_ENV_VARS.map((v) => v.name);

describe('the function environment', () => {
  it('gives only variables documented in CONFIG_ENV_VARS', () => {
    expect(Object.keys(environment).filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('never gives the development-only variables', () => {
    expect(Object.keys(DEV_ONLY).every((name) => documented.includes(name))).toBe(true);
    expect(Object.keys(environment).filter((name) => name in DEV_ONLY)).toEqual([]);
  });

  it('gives every production variable of CONFIG_ENV_VARS', () => {
    const production = documented.filter((name) => !(name in DEV_ONLY));
    expect(Object.keys(environment).sort()).toEqual([...production].sort());
  });

  it('takes each value from a typed variable or from the module’s own SCC source', async () => {
    const errors: string[] = [];
    for (const [name, value] of Object.entries(environment)) {
      const refs = await referencesIn(value);
      // TRIAGE_SERVICE_ACCOUNT: the triage's own identity, so the responder knows whose mark is an automatic request.
      const fromInput = refs.some((r) => r.startsWith('var.') || r.startsWith('google_scc_v2_organization_source.') || r === 'google_service_account.function.email');
      if (!fromInput) errors.push(`${name} = ${JSON.stringify(value)}`);
      for (const ref of refs.filter((r) => r.startsWith('var.'))) {
        const declared = mod.variables.get(ref.split('.')[1]!);
        if (typeof declared?.['type'] !== 'string') errors.push(`${name}: ${ref} is not a typed variable`);
      }
    }
    expect(errors).toEqual([]);
  });

  it("defaults each variable to the code's default (CONFIG_ENV_VARS default column)", async () => {
    const errors: string[] = [];
    let checked = 0;
    for (const doc of CONFIG_ENV_VARS) {
      const value = environment[doc.name];
      if (value === undefined || /^\(.*\)$/.test(doc.default)) continue; // "(unset)", "(none)": no literal default
      const vars = (await referencesIn(value)).filter((r) => r.startsWith('var.'));
      if (vars.length !== 1) continue;
      const declared = mod.variables.get(vars[0]!.split('.')[1]!);
      if (!declared || !('default' in declared)) continue;
      const fallback = declared['default'];
      const asEnv = Array.isArray(fallback) ? fallback.join(',') : String(fallback);
      checked++;
      if (asEnv !== doc.default) errors.push(`${doc.name}: ${vars[0]} defaults to ${asEnv}, the code to ${doc.default}`);
    }
    expect(errors).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('validates disabled_gatherers against the gatherer sections the code knows', () => {
    // Read dynamically: GATHERER_SECTIONS is young; if it moves, this test says so instead of breaking the build.
    const sections = (config as Record<string, unknown>)['GATHERER_SECTIONS'];
    expect(Array.isArray(sections)).toBe(true);
    const validation = JSON.stringify(mod.variables.get('disabled_gatherers')?.['validation'] ?? null);
    const listed = [...validation.matchAll(/\\"(\w+)\\"/g)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual([...(sections as string[])].sort());
  });

  it('SCC_SOURCE_NAME is the source the module creates', async () => {
    expect(await referencesIn(environment['SCC_SOURCE_NAME'] ?? null)).toEqual(['google_scc_v2_organization_source.triage.name']);
  });

  it('TRIAGE_SERVICE_ACCOUNT is the triage function\'s own service account; the responder gets the same environment plus EVIDENCE_BUCKET', async () => {
    expect(await referencesIn(environment['TRIAGE_SERVICE_ACCOUNT'] ?? null)).toEqual(['google_service_account.function.email']);
    const responder = mod.resources.get('google_cloudfunctions2_function.responder')!;
    const env = String(firstBody(responder.body['service_config'])['environment_variables']);
    expect(await referencesIn(env)).toEqual(['local.function_environment', 'google_storage_bucket.evidence.0.name']);
    expect(env).toContain('EVIDENCE_BUCKET');
    expect(firstBody(responder.body['build_config'])['entry_point']).toBe('respondSocatFinding');
  });

  it('sets no environment anywhere else (no secret env, no build-time config)', () => {
    const fn = mod.resources.get('google_cloudfunctions2_function.triage')!;
    expect(firstBody(fn.body['service_config'])['secret_environment_variables']).toBeUndefined();
    expect(firstBody(fn.body['build_config'])['environment_variables']).toBeUndefined();
  });
});
