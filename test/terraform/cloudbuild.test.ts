/**
 * cloudbuild.yaml parses, calls only npm scripts package.json has, runs the
 * pipeline in order (install, lint, test, build, package, terraform
 * init/plan/apply), lets nothing reach Terraform before the tests pass, and
 * deploys per organization from substitutions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from './support.js';

interface Step {
  id?: string;
  name?: string;
  entrypoint?: string;
  args?: string[];
  script?: string;
  dir?: string;
  env?: string[];
  waitFor?: string[];
}

const text = readFileSync(join(projectRoot, 'cloudbuild.yaml'), 'utf8');
const config = parse(text) as { steps?: Step[]; substitutions?: Record<string, string> };
const steps = config.steps ?? [];
const packageJson = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };

/** Ids a step waits for: explicit waitFor, or (Cloud Build's default) every earlier step; ['-'] = none. */
function directDependencies(index: number): string[] {
  const step = steps[index]!;
  if (step.waitFor === undefined) return steps.slice(0, index).map((s) => s.id ?? '');
  return step.waitFor.filter((w) => w !== '-');
}

function transitiveDependencies(id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const current = stack.pop()!;
    const index = steps.findIndex((s) => s.id === current);
    if (index === -1) continue;
    for (const dep of directDependencies(index)) {
      if (!seen.has(dep)) {
        seen.add(dep);
        stack.push(dep);
      }
    }
  }
  return seen;
}

/** The command line of a step, as words. */
function command(step: Step): string[] {
  if (step.script !== undefined) return step.script.split(/\s+/);
  return [...(step.entrypoint !== undefined ? [step.entrypoint] : []), ...(step.args ?? [])];
}

/** npm scripts a step invokes: `npm run X`, `npm run-script X`, and the npm shorthands test/start. */
function npmScripts(words: string[]): string[] {
  const out: string[] = [];
  words.forEach((w, i) => {
    if (w !== 'npm') return;
    const verb = words[i + 1];
    if (verb === 'run' || verb === 'run-script') out.push(words[i + 2] ?? '');
    if (verb === 'test' || verb === 't' || verb === 'start' || verb === 'stop' || verb === 'restart') out.push(verb === 't' ? 'test' : verb);
  });
  return out;
}

describe('cloudbuild.yaml', () => {
  it('parses into steps with unique ids', () => {
    expect(steps.length).toBeGreaterThan(0);
    const ids = steps.map((s) => s.id);
    expect(ids.every((id) => typeof id === 'string' && id !== '')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('runs install, lint, test, build, package, terraform init, plan and apply, in that order', () => {
    const ids = steps.map((s) => s.id);
    expect(ids).toEqual(['install', 'lint', 'test', 'build', 'package', 'terraform-init', 'terraform-plan', 'terraform-apply']);
    expect(command(steps[0]!)).toEqual(['npm', 'ci']);
    expect(command(steps[1]!)).toEqual(['npm', 'run', 'lint']);
  });

  it('calls only npm scripts that package.json defines', () => {
    const called = steps.flatMap((s) => npmScripts(command(s)));
    expect(called).toEqual(expect.arrayContaining(['test', 'build']));
    expect(called.filter((script) => !(script in (packageJson.scripts ?? {})))).toEqual([]);
  });

  it('waits only for steps that exist', () => {
    const ids = new Set(steps.map((s) => s.id));
    expect(steps.flatMap((s) => (s.waitFor ?? []).filter((w) => w !== '-' && !ids.has(w)))).toEqual([]);
  });

  it('gates every terraform step on lint and test', () => {
    const terraformSteps = steps.filter((s) => s.name?.startsWith('hashicorp/terraform'));
    expect(terraformSteps.map((s) => s.id)).toEqual(['terraform-init', 'terraform-plan', 'terraform-apply']);
    for (const step of terraformSteps) {
      const deps = transitiveDependencies(step.id!);
      expect({ step: step.id, test: deps.has('test'), lint: deps.has('lint'), package: deps.has('package') }).toEqual({
        step: step.id,
        test: true,
        lint: true,
        package: true,
      });
    }
  });

  it('uses a pinned hashicorp/terraform image and an existing root configuration', () => {
    for (const step of steps.filter((s) => s.name?.startsWith('hashicorp/terraform'))) {
      expect(step.name).toMatch(/^hashicorp\/terraform:\d+\.\d+\.\d+$/);
      expect(step.dir).toBeDefined();
      expect(existsSync(join(projectRoot, step.dir!, 'main.tf'))).toBe(true);
    }
  });

  it('packages with the script in terraform/scripts, into the directory Terraform zips', () => {
    const pkg = steps.find((s) => s.id === 'package')!;
    const words = command(pkg);
    const script = words.find((w) => w.endsWith('.mjs'));
    expect(script).toBe('terraform/scripts/package-function-source.mjs');
    expect(existsSync(join(projectRoot, script!))).toBe(true);
    const out = words[words.indexOf('--out') + 1];
    const plan = steps.find((s) => s.id === 'terraform-plan')!;
    expect(plan.env).toContain(`TF_VAR_function_source_dir=/workspace/${out}`);
  });

  it('deploys per organization: organization id, project, region and state bucket come from substitutions', () => {
    expect(Object.keys(config.substitutions ?? {}).sort()).toEqual(['_NAME_PREFIX', '_ORGANIZATION_ID', '_PROJECT_ID', '_REGION', '_STATE_BUCKET']);
    const init = command(steps.find((s) => s.id === 'terraform-init')!).join(' ');
    expect(init).toContain('-backend-config=bucket=${_STATE_BUCKET}');
    expect(init).toContain('-backend-config=prefix=scc-socat-triage/${_ORGANIZATION_ID}');
    const planEnv = steps.find((s) => s.id === 'terraform-plan')!.env ?? [];
    expect(planEnv).toEqual(
      expect.arrayContaining([
        'TF_VAR_organization_id=${_ORGANIZATION_ID}',
        'TF_VAR_project_id=${_PROJECT_ID}',
        'TF_VAR_region=${_REGION}',
        'TF_VAR_name_prefix=${_NAME_PREFIX}',
      ]),
    );
    const apply = command(steps.find((s) => s.id === 'terraform-apply')!);
    expect(apply).toEqual(['apply', '-input=false', 'tfplan']); // applies exactly the reviewed plan
  });

  it('uses every substitution it declares and declares every one it uses', () => {
    const used = new Set([...text.matchAll(/\$\{(_[A-Z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(config.substitutions ?? {}).sort());
  });
});
