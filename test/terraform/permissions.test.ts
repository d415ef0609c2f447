/**
 * Least privilege: the function's service account is granted exactly the
 * permissions lib/permissions.ts REQUIRED_PERMISSIONS lists — through custom
 * roles only, each permission commented with the code that needs it — and the
 * finding-update permission only on the project's own SCC source.
 * The list is read from the code: when a gatherer adds a permission there,
 * these tests fail until terraform/iam.tf grants it.
 */
import { REQUIRED_PERMISSIONS, RESPONDER_PERMISSIONS, type PermissionUse } from '../../lib/permissions.js';
import { firstBody, literalStrings, loadModule, referencesIn, terraformDir, type Body, type TfModule } from './support.js';

let mod: TfModule;

beforeAll(async () => {
  mod = await loadModule(terraformDir);
});

const CUSTOM_ROLE_TYPES = ['google_organization_iam_custom_role', 'google_project_iam_custom_role'];
const READ_ROLE = 'google_organization_iam_custom_role.cluster_reads';
const READ_SCOPE_GRANTS = [
  'google_organization_iam_member.function_cluster_reads',
  'google_folder_iam_member.function_cluster_reads',
  'google_project_iam_member.function_cluster_reads',
];
const required = REQUIRED_PERMISSIONS.map((p) => p.permission);
/** The responder's roles (terraform/response.tf); every other custom role is the triage function's. */
const RESPONDER_ROLE = /^google_organization_iam_custom_role\.responder_/;

function allCustomRoles(): Array<{ key: string; body: Body; file: string; permissions: string[] | null }> {
  return [...mod.resources.entries()]
    .filter(([, r]) => CUSTOM_ROLE_TYPES.includes(r.type))
    .map(([key, r]) => ({ key, body: r.body, file: r.file, permissions: literalStrings(r.body['permissions']) }));
}

function customRoles(): ReturnType<typeof allCustomRoles> {
  return allCustomRoles().filter((r) => !RESPONDER_ROLE.test(r.key));
}

function responderRoles(): ReturnType<typeof allCustomRoles> {
  return allCustomRoles().filter((r) => RESPONDER_ROLE.test(r.key));
}

/** Each permission of the list appears once in the files given, commented with the code file its usedBy names. */
function commentErrors(uses: readonly PermissionUse[], files: TfModule['files']): string[] {
  const errors: string[] = [];
  for (const { permission, usedBy } of uses) {
    const codeFile = usedBy.split(':')[0]!.trim();
    const hits = files.flatMap((f) =>
      f.text.split('\n').flatMap((line, i, lines) => (line.includes(`"${permission}"`) ? [{ f, line, previous: lines[i - 1] ?? '' }] : [])),
    );
    if (hits.length !== 1) {
      errors.push(`${permission}: appears ${hits.length} times in ${files.map((f) => f.path).join(', ')}, expected once`);
      continue;
    }
    const { f, line, previous } = hits[0]!;
    const comment = `${previous.trim().startsWith('#') ? previous : ''} ${line.includes('#') ? line.slice(line.indexOf('#')) : ''}`;
    if (!comment.includes(codeFile)) errors.push(`${f.path}: ${permission} needs a comment naming ${codeFile} (from lib/permissions.ts usedBy)`);
  }
  return errors;
}

const isResponseFile = (f: TfModule['files'][number]) => f.path.endsWith('response.tf');

/** References of a value, with local.X expanded (one level deep is all this module uses, but recurse anyway). */
async function expandedRefs(value: Body[string] | undefined, seen = new Set<string>()): Promise<string[]> {
  const out: string[] = [];
  for (const ref of await referencesIn(value ?? null)) {
    out.push(ref);
    const [root, name] = ref.split('.');
    if (root === 'local' && name !== undefined && !seen.has(name)) {
      seen.add(name);
      out.push(...(await expandedRefs(mod.locals.get(name), seen)));
    }
  }
  return out;
}

/** Every IAM grant (…_iam_member / …_iam_binding) in the module, with what its role and member(s) refer to. */
async function grants(): Promise<Array<{ key: string; type: string; role: Body[string] | undefined; roleRefs: string[]; memberRefs: string[] }>> {
  const out = [];
  for (const [key, r] of mod.resources) {
    if (!/_iam_(member|binding)$/.test(r.type)) continue;
    out.push({
      key,
      type: r.type,
      role: r.body['role'],
      roleRefs: await expandedRefs(r.body['role']),
      memberRefs: await expandedRefs(r.body['member'] ?? r.body['members']),
    });
  }
  return out;
}

/** The resource key of the service account the function runs as. */
async function functionServiceAccount(): Promise<string> {
  const fn = mod.resources.get('google_cloudfunctions2_function.triage');
  if (!fn) throw new Error('google_cloudfunctions2_function.triage not found');
  const serviceConfig = firstBody(fn.body['service_config']);
  const refs = await referencesIn(serviceConfig['service_account_email'] ?? null);
  const sa = refs.find((r) => r.startsWith('google_service_account.'));
  if (!sa) throw new Error('the function does not run as a google_service_account of the module');
  return sa.split('.').slice(0, 2).join('.');
}

describe('permissions granted to the function', () => {
  it('the code lists at least the two SCC write permissions', () => {
    expect(required).toEqual(expect.arrayContaining(['securitycenter.findings.update', 'securitycenter.findingsecuritymarks.update']));
  });

  it('custom roles list their permissions literally', () => {
    const roles = customRoles();
    expect(roles.length).toBeGreaterThan(0);
    expect(roles.filter((r) => r.permissions === null).map((r) => r.key)).toEqual([]);
  });

  it('the custom roles together grant exactly REQUIRED_PERMISSIONS, each once', () => {
    const granted = customRoles().flatMap((r) => r.permissions ?? []);
    expect([...granted].sort()).toEqual([...new Set(required)].sort());
    expect(new Set(granted).size).toBe(granted.length);
  });

  it('every custom role is granted to the function service account (the read role once per read_scope kind)', async () => {
    const sa = await functionServiceAccount();
    const all = await grants();
    for (const role of customRoles()) {
      const toFunction = all.filter((g) => g.roleRefs.some((r) => r.startsWith(`${role.key}.`)) && g.memberRefs.some((r) => r.startsWith(`${sa}.`)));
      const expected = role.key === READ_ROLE ? [...READ_SCOPE_GRANTS].sort() : ['one grant'];
      const actual = role.key === READ_ROLE ? toFunction.map((g) => g.key).sort() : toFunction.map(() => 'one grant');
      expect({ role: role.key, grants: actual }).toEqual({ role: role.key, grants: expected });
    }
  });

  it('the read role is granted on read_scope and nowhere else: exactly one kind is active', () => {
    const active = (key: string) => {
      const body = mod.resources.get(key)?.body;
      return String(body?.['count'] ?? body?.['for_each']);
    };
    expect(active('google_organization_iam_member.function_cluster_reads')).toBe('${local.read_scope_kind == "organization" ? 1 : 0}');
    expect(active('google_folder_iam_member.function_cluster_reads')).toBe('${local.read_scope_kind == "folders" ? toset(var.read_scope.folder_ids) : toset([])}');
    expect(active('google_project_iam_member.function_cluster_reads')).toBe('${local.read_scope_kind == "projects" ? toset(var.read_scope.project_ids) : toset([])}');
    expect(mod.variables.get('read_scope')?.['default']).toEqual({ folder_ids: [], project_ids: [] });
    const validations = (Array.isArray(mod.variables.get('read_scope')?.['validation']) ? (mod.variables.get('read_scope')!['validation'] as Body[]) : []).map((v) => String(v['condition']));
    expect(validations).toContain('${length(var.read_scope.folder_ids) == 0 || length(var.read_scope.project_ids) == 0}');
  });

  it('the read role holds what the gatherers read of clusters and logs; SCC permissions stay out of it', () => {
    const reads = customRoles().find((r) => r.key === READ_ROLE)?.permissions ?? [];
    expect(reads).toEqual(expect.arrayContaining(['container.clusters.get', 'container.clusters.connect', 'container.pods.get', 'container.nodes.get', 'logging.logEntries.list']));
    expect(reads.filter((p) => p.startsWith('securitycenter.'))).toEqual([]);
  });

  it('the function service account gets no role but those custom roles', async () => {
    const sa = await functionServiceAccount();
    const roleKeys = customRoles().map((r) => r.key);
    const toFunction = (await grants()).filter((g) => g.memberRefs.some((r) => r.startsWith(`${sa}.`)));
    expect(toFunction.length).toBeGreaterThan(0);
    const other = toFunction.filter((g) => !g.roleRefs.some((r) => roleKeys.some((k) => r.startsWith(`${k}.`))));
    expect(other.map((g) => `${g.key}: ${JSON.stringify(g.role)}`)).toEqual([]);
  });

  it('securitycenter.findings.update is granted on our own SCC source only, never organization-wide', async () => {
    const holding = customRoles().filter((r) => r.permissions?.includes('securitycenter.findings.update'));
    expect(holding.length).toBe(required.includes('securitycenter.findings.update') ? 1 : 0);
    const all = await grants();
    for (const role of holding) {
      const bindings = all.filter((g) => g.roleRefs.some((r) => r.startsWith(`${role.key}.`)));
      expect(bindings.map((g) => g.type)).toEqual(['google_scc_v2_organization_source_iam_member']);
      const source = mod.resources.get(bindings[0]!.key)?.body['source'];
      expect(await referencesIn(source ?? null)).toContain('google_scc_v2_organization_source.triage.name');
    }
  });

  it('each granted permission carries a comment naming the code that needs it', () => {
    expect(commentErrors(REQUIRED_PERMISSIONS, mod.files.filter((f) => !isResponseFile(f)))).toEqual([]);
  });

  it('holds no write to Kubernetes or GKE (the triage never acts: ARCHITECTURE.md invariant)', () => {
    const granted = customRoles().flatMap((r) => r.permissions ?? []);
    expect(granted.filter((p) => p.startsWith('container.') && !/\.(get|list|connect)$/.test(p))).toEqual([]);
  });
});

describe('permissions granted to the responder (enable_response)', () => {
  it('the responder custom roles together grant exactly RESPONDER_PERMISSIONS, each once', () => {
    const granted = responderRoles().flatMap((r) => r.permissions ?? []);
    expect([...granted].sort()).toEqual(RESPONDER_PERMISSIONS.map((p) => p.permission).sort());
    expect(new Set(granted).size).toBe(granted.length);
  });

  it('each responder role exists only with enable_response and is granted once, to the responder service account only', async () => {
    const all = await grants();
    for (const role of responderRoles()) {
      expect(String(role.body['count'])).toBe('${local.response_count}');
      const bindings = all.filter((g) => g.roleRefs.some((r) => r.startsWith(`${role.key}.`)));
      const members = bindings.map((g) => g.memberRefs.filter((r) => r.startsWith('google_service_account.')).map((r) => r.split('.').slice(0, 2).join('.')));
      // A role granted on read_scope has one binding per kind of scope (organization, folders, projects); only the one read_scope names is created.
      const onReadScope = bindings.length === 3 && bindings.every((g) => /local\.read_scope_kind == \\?"(organization|folders|projects)/.test(JSON.stringify(mod.resources.get(g.key)?.body)));
      expect({ role: role.key, members: onReadScope ? members.slice(0, 1) : members }).toEqual({
        role: role.key,
        members: [['google_service_account.responder']],
      });
      if (onReadScope) expect(bindings.map((g) => g.type).sort()).toEqual(['google_folder_iam_member', 'google_organization_iam_member', 'google_project_iam_member']);
    }
    const toResponder = all.filter((g) => g.memberRefs.some((r) => r.startsWith('google_service_account.responder.')));
    const roleKeys = responderRoles().map((r) => r.key);
    expect(toResponder.filter((g) => !g.roleRefs.some((r) => roleKeys.some((k) => r.startsWith(`${k}.`)))).map((g) => g.key)).toEqual([]);
  });

  it('securitycenter.findings.update is granted on our own SCC source only', async () => {
    const holding = responderRoles().filter((r) => r.permissions?.includes('securitycenter.findings.update'));
    expect(holding).toHaveLength(1);
    const bindings = (await grants()).filter((g) => g.roleRefs.some((r) => r.startsWith(`${holding[0]!.key}.`)));
    expect(bindings.map((g) => g.type)).toEqual(['google_scc_v2_organization_source_iam_member']);
  });

  it('each permission carries a comment naming the code that needs it', () => {
    expect(commentErrors(RESPONDER_PERMISSIONS, mod.files.filter(isResponseFile))).toEqual([]);
  });
});
