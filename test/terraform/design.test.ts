/**
 * The delivery and deployment decisions the issue asks for, as checks on the
 * module: SCC v2 streaming notification on the socat category and ACTIVE
 * state; push subscription with OIDC, bounded retries and a dead-letter topic
 * (not the function's event trigger, whose Eventarc subscription cannot take
 * a dead-letter policy from Terraform); nodejs24 function whose source object
 * is named by the archive hash; metrics and alerts on the outcome line and
 * the dead letters.
 */
import { DEFAULT_CATEGORY } from '../../lib/config.js';
import { firstBody, isBody, loadModule, referencesIn, terraformDir, type Body, type TfModule } from './support.js';

let mod: TfModule;

beforeAll(async () => {
  mod = await loadModule(terraformDir);
});

function resource(key: string): Body {
  const r = mod.resources.get(key);
  if (!r) throw new Error(`${key} not found`);
  return r.body;
}

function variableDefault(name: string): unknown {
  return mod.variables.get(name)?.['default'];
}

describe('notification', () => {
  it('is an SCC v2 organization config with a streaming filter on the triaged categories and ACTIVE', async () => {
    const config = resource('google_scc_v2_organization_notification_config.socat');
    expect(await referencesIn(config['location'] ?? null)).toEqual(['var.scc_location']);
    expect(variableDefault('scc_location')).toBe('global');
    expect(await referencesIn(config['pubsub_topic'] ?? null)).toEqual(['google_pubsub_topic.notifications.id']);
    expect(await referencesIn(firstBody(config['streaming_config'])['filter'] ?? null)).toEqual(['local.notification_filter']);
    const filter = String(mod.locals.get('notification_filter'));
    expect(filter).toContain('state=\\"ACTIVE\\"');
    expect(filter).toContain('category=%q');
    expect(await referencesIn(filter)).toContain('var.triage_categories');
    expect(variableDefault('triage_categories')).toEqual([DEFAULT_CATEGORY]);
  });

  it("lets the config's service account publish to the topic", async () => {
    const grant = resource('google_pubsub_topic_iam_member.scc_publishes_notifications');
    expect(grant['role']).toBe('roles/pubsub.publisher');
    expect(await referencesIn(grant['member'] ?? null)).toEqual(['google_scc_v2_organization_notification_config.socat.service_account']);
    expect(await referencesIn(grant['topic'] ?? null)).toEqual(['google_pubsub_topic.notifications.name']);
  });
});

describe('delivery', () => {
  it('does not use the function event trigger (its subscription cannot dead-letter)', () => {
    expect(resource('google_cloudfunctions2_function.triage')['event_trigger']).toBeUndefined();
  });

  it('pushes to the function run.app URI, path /projects/P/topics/T, with an OIDC token of the push identity', async () => {
    const push = firstBody(resource('google_pubsub_subscription.push')['push_config']);
    expect(push['push_endpoint']).toBe(
      '${google_cloudfunctions2_function.triage.service_config[0].uri}/${google_pubsub_topic.notifications.id}',
    );
    expect(push['no_wrapper']).toBeUndefined(); // functions-framework needs the {message, subscription} body
    const oidc = firstBody(push['oidc_token']);
    expect(await referencesIn(oidc['service_account_email'] ?? null)).toEqual(['google_service_account.push.email']);
    expect(await referencesIn(oidc['audience'] ?? null)).toEqual(['google_cloudfunctions2_function.triage.service_config.0.uri']);
  });

  it('only the push identity may invoke the functions (the triage, and the responder when enabled)', async () => {
    const invokers = [...mod.resources.values()].filter((r) => r.body['role'] === 'roles/run.invoker' || r.body['role'] === 'roles/cloudfunctions.invoker');
    expect(invokers.map((r) => `${r.type}.${r.name}`).sort()).toEqual(['google_cloud_run_v2_service_iam_member.push_invokes_function', 'google_cloud_run_v2_service_iam_member.push_invokes_responder']);
    for (const invoker of invokers) expect(await referencesIn(invoker.body['member'] ?? null)).toEqual(['google_service_account.push.email']);
    expect(JSON.stringify(mod.files.map((f) => f.json))).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });

  it('retries with bounded exponential backoff and dead-letters after max_delivery_attempts', async () => {
    const sub = resource('google_pubsub_subscription.push');
    const retry = firstBody(sub['retry_policy']);
    expect(await referencesIn(retry['minimum_backoff'] ?? null)).toEqual(['var.retry_minimum_backoff_seconds']);
    expect(await referencesIn(retry['maximum_backoff'] ?? null)).toEqual(['var.retry_maximum_backoff_seconds']);
    const dead = firstBody(sub['dead_letter_policy']);
    expect(await referencesIn(dead['dead_letter_topic'] ?? null)).toEqual(['google_pubsub_topic.dead_letter.id']);
    expect(await referencesIn(dead['max_delivery_attempts'] ?? null)).toEqual(['var.max_delivery_attempts']);
    expect(variableDefault('max_delivery_attempts')).toEqual(expect.any(Number));
  });

  it('waits for the function answer at least the function timeout', async () => {
    const sub = resource('google_pubsub_subscription.push');
    expect(await referencesIn(sub['ack_deadline_seconds'] ?? null)).toEqual(['var.function_timeout_seconds']);
    const fn = firstBody(resource('google_cloudfunctions2_function.triage')['service_config']);
    expect(await referencesIn(fn['timeout_seconds'] ?? null)).toEqual(['var.function_timeout_seconds']);
  });

  it('keeps dead letters in a never-expiring subscription that retains acked messages', async () => {
    const dl = resource('google_pubsub_subscription.dead_letter');
    expect(await referencesIn(dl['topic'] ?? null)).toEqual(['google_pubsub_topic.dead_letter.id']);
    expect(dl['push_config']).toBeUndefined();
    expect(dl['retain_acked_messages']).toBe(true);
    expect(firstBody(dl['expiration_policy'])['ttl']).toBe('');
  });

  it('lets the Pub/Sub service agent publish dead letters and ack the originals', async () => {
    const publisher = resource('google_pubsub_topic_iam_member.pubsub_publishes_dead_letters');
    expect(publisher['role']).toBe('roles/pubsub.publisher');
    expect(await referencesIn(publisher['topic'] ?? null)).toEqual(['google_pubsub_topic.dead_letter.name']);
    const subscriber = resource('google_pubsub_subscription_iam_member.pubsub_forwards_dead_letters');
    expect(subscriber['role']).toBe('roles/pubsub.subscriber');
    expect(await referencesIn(subscriber['subscription'] ?? null)).toEqual(['google_pubsub_subscription.push.name']);
    expect(String(mod.locals.get('pubsub_service_agent'))).toMatch(/@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/);
  });
});

describe('function', () => {
  it('runs nodejs24 with entry point triageSocatFinding', () => {
    const build = firstBody(resource('google_cloudfunctions2_function.triage')['build_config']);
    expect(build['runtime']).toBe('nodejs24');
    expect(build['entry_point']).toBe('triageSocatFinding');
  });

  it('deploys a source object named by the archive content hash', async () => {
    const object = resource('google_storage_bucket_object.function_source');
    expect(await referencesIn(object['name'] ?? null)).toEqual(['data.archive_file.function_source.output_sha256']);
    const storage = firstBody(firstBody(firstBody(resource('google_cloudfunctions2_function.triage')['build_config'])['source'])['storage_source']);
    expect(await referencesIn(storage['object'] ?? null)).toEqual(['google_storage_bucket_object.function_source.name']);
    const archive = mod.dataSources.get('archive_file.function_source')?.body;
    expect(await referencesIn(archive?.['source_dir'] ?? null)).toEqual(['var.function_source_dir']);
    expect(archive?.['output_file_mode']).toBe('0644'); // same bytes, same hash, on any machine
  });

  it('takes timeout, memory, cpu, min/max instances and concurrency from variables', async () => {
    const sc = firstBody(resource('google_cloudfunctions2_function.triage')['service_config']);
    const from = async (key: string) => (await referencesIn(sc[key] ?? null)).join(',');
    expect(await from('timeout_seconds')).toBe('var.function_timeout_seconds');
    expect(await from('available_memory')).toBe('var.function_memory_mib');
    expect(await from('available_cpu')).toBe('var.function_vcpu_count');
    expect(await from('min_instance_count')).toBe('var.function_min_instance_count');
    expect(await from('max_instance_count')).toBe('var.function_max_instance_count');
    expect(await from('max_instance_request_concurrency')).toBe('var.function_concurrent_requests_per_instance');
  });
});

describe('observability', () => {
  it('counts the outcome line by outcome, from the function logs', async () => {
    const filter = String(mod.locals.get('outcome_log_filter'));
    expect(filter).toContain('jsonPayload.message=\\"triage outcome\\"');
    expect(filter).toContain('cloud_run_revision');
    expect(await referencesIn(filter)).toEqual(['google_cloudfunctions2_function.triage.name']);
    const outcomes = resource('google_logging_metric.outcomes');
    expect(outcomes['label_extractors']).toEqual({ outcome: 'EXTRACT(jsonPayload.outcome)' });
    const duration = resource('google_logging_metric.duration');
    expect(duration['value_extractor']).toBe('EXTRACT(jsonPayload.durationMs)');
  });

  it('alerts on permanent failures and on dead letters', async () => {
    const policy = resource('google_monitoring_alert_policy.triage_failures');
    const conditions = Array.isArray(policy['conditions']) ? policy['conditions'].filter(isBody) : [];
    const filters = conditions.map((c) => String(firstBody(c['condition_threshold'])['filter']));
    expect(filters).toHaveLength(2);
    expect(filters[0]).toContain('logging.googleapis.com/user/${google_logging_metric.outcomes.name}');
    expect(filters[0]).toMatch(/failed_permanent/);
    expect(filters[1]).toContain('pubsub.googleapis.com/subscription/num_undelivered_messages');
    expect(await referencesIn(filters[1]!)).toEqual(['google_pubsub_subscription.dead_letter.name']);
    expect(await referencesIn(policy['notification_channels'] ?? null)).toEqual(['var.notification_channel_ids']);
  });
});

/** The depends_on entries of a resource, as TYPE.NAME keys. */
function dependsOn(key: string): string[] {
  const d = resource(key)['depends_on'];
  return Array.isArray(d) ? d.map((x) => String(x).replace(/^\$\{(.*)\}$/, '$1')) : [];
}

describe('ordering on a fresh project (issue 14)', () => {
  it('every custom role waits for the APIs (iam.googleapis.com) of the host project', () => {
    const roles = [...mod.resources.values()].filter((r) => r.type === 'google_organization_iam_custom_role');
    expect(roles.length).toBeGreaterThanOrEqual(3);
    for (const r of roles) expect({ role: r.name, dependsOn: dependsOn(`${r.type}.${r.name}`) }).toEqual({ role: r.name, dependsOn: ['google_project_service.required'] });
    expect(String(mod.locals.get('required_apis'))).toContain('iam.googleapis.com');
  });

  it('the alert policy waits for the log-based metrics to propagate (time_sleep, provider issue 11102)', async () => {
    expect(dependsOn('google_monitoring_alert_policy.triage_failures')).toEqual(['time_sleep.log_metrics_propagated']);
    const sleep = resource('time_sleep.log_metrics_propagated');
    expect(await referencesIn(sleep['create_duration'] ?? null)).toEqual(['var.log_metric_propagation_seconds']);
    expect((await referencesIn(sleep['triggers'] ?? null)).sort()).toEqual(['google_logging_metric.duration.id', 'google_logging_metric.outcomes.id']);
    expect(variableDefault('log_metric_propagation_seconds')).toBe(600);
    expect(mod.files.find((f) => f.path.endsWith('observability.tf'))?.text).toContain('11102');
  });

  it("the responder's outcome lines are counted and alerted on, after the metric has propagated", async () => {
    const metric = resource('google_logging_metric.response_outcomes');
    expect(String(metric['count'])).toBe('${local.response_count}');
    expect(String(metric['filter'])).toContain('response outcome');
    expect(await referencesIn(metric['filter'] ?? null)).toEqual(['google_cloudfunctions2_function.responder.0.name']);
    expect(metric['label_extractors']).toEqual({ outcome: 'EXTRACT(jsonPayload.outcome)' });
    const policy = resource('google_monitoring_alert_policy.response_failures');
    expect(String(policy['count'])).toBe('${local.response_count}');
    const conditions = Array.isArray(policy['conditions']) ? policy['conditions'].filter(isBody) : [];
    const filter = String(firstBody(conditions[0]!['condition_threshold'])['filter']);
    expect(filter).toContain('logging.googleapis.com/user/${google_logging_metric.response_outcomes[0].name}');
    expect(filter).toMatch(/failed_permanent.*rejected/);
    expect(dependsOn('google_monitoring_alert_policy.response_failures')).toEqual(['time_sleep.response_metrics_propagated']);
    expect(await referencesIn(resource('time_sleep.response_metrics_propagated')['triggers'] ?? null)).toEqual(['google_logging_metric.response_outcomes.0.id']);
  });

  it('the notification config is created only once the push subscription exists', () => {
    expect(dependsOn('google_scc_v2_organization_notification_config.socat')).toEqual(['google_pubsub_subscription.push']);
  });
});

describe('build service account (issue 14)', () => {
  it('the module creates one by default and builds with it; a variable still accepts an existing one', async () => {
    expect(variableDefault('build_service_account_email')).toBeNull();
    const sa = mod.resources.get('google_service_account.build');
    expect(sa?.body['count']).toBe('${var.build_service_account_email == null ? 1 : 0}');
    const build = firstBody(resource('google_cloudfunctions2_function.triage')['build_config']);
    expect(await referencesIn(build['service_account'] ?? null)).toEqual(['var.project_id', 'local.build_service_account_email']);
    expect((await referencesIn(mod.locals.get('build_service_account_email') ?? null)).sort()).toEqual(
      ['google_service_account.build.0.email', 'var.build_service_account_email', 'var.build_service_account_email'].sort(),
    );
  });

  it('grants the roles Google documents for a build service account, in the host project', async () => {
    expect(mod.locals.get('build_roles')).toBe('${toset(["roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectAdmin"])}');
    const grant = resource('google_project_iam_member.build');
    expect(await referencesIn(grant['member'] ?? null)).toEqual(['google_service_account.build.0.email']);
    expect(await referencesIn(grant['project'] ?? null)).toEqual(['var.project_id']);
    expect(dependsOn('google_cloudfunctions2_function.triage')).toContain('google_project_iam_member.build');
  });
});

describe('plan-time checks and network (issue 14)', () => {
  it('refuses a benign threshold that is not below the malicious one', () => {
    const lifecycle = firstBody(resource('google_cloudfunctions2_function.triage')['lifecycle']);
    const conditions = (Array.isArray(lifecycle['precondition']) ? lifecycle['precondition'] : []).map((p) => String((p as Body)['condition']));
    expect(conditions).toContain('${var.verdict_benign_threshold_points < var.verdict_malicious_threshold_points}');
  });

  it('offers VPC egress for private-IP control planes through a connector, off by default', async () => {
    const sc = firstBody(resource('google_cloudfunctions2_function.triage')['service_config']);
    expect(await referencesIn(sc['vpc_connector'] ?? null)).toEqual(['var.vpc_connector']);
    expect((await referencesIn(sc['vpc_connector_egress_settings'] ?? null)).sort()).toEqual(['var.vpc_connector', 'var.vpc_connector_egress_settings']);
    expect(variableDefault('vpc_connector')).toBeNull();
    expect(variableDefault('vpc_connector_egress_settings')).toBe('PRIVATE_RANGES_ONLY');
  });
});

describe('the responder (enable_response)', () => {
  const RESPONSE_KEYS = [
    'google_cloudfunctions2_function.responder',
    'google_scc_v2_organization_notification_config.responses',
    'google_pubsub_topic.responses',
    'google_pubsub_subscription.responses_push',
    'google_service_account.responder',
    'google_storage_bucket.evidence',
  ];

  it('exists only with enable_response, which is off by default', () => {
    expect(variableDefault('enable_response')).toBe(false);
    for (const key of RESPONSE_KEYS) expect({ key, count: resource(key)['count'] }).toEqual({ key, count: '${local.response_count}' });
    expect(String(mod.locals.get('response_count'))).toBe('${var.enable_response ? 1 : 0}');
  });

  it('is notified of our own source\'s findings whose socat_response mark names an action', async () => {
    const config = resource('google_scc_v2_organization_notification_config.responses');
    expect(await referencesIn(firstBody(config['streaming_config'])['filter'] ?? null)).toEqual(['local.response_notification_filter']);
    const filter = String(mod.locals.get('response_notification_filter'));
    expect(await referencesIn(filter)).toContain('google_scc_v2_organization_source.triage.name');
    expect(filter).toContain('parent=%q');
    expect(filter).toContain('security_marks.marks.socat_response:%q');
    for (const action of ['capture', 'block-c2', 'isolate', 'cordon', 'delete-pod']) expect(filter).toContain(`"${action}"`);
  });

  it('runs respondSocatFinding from the same source archive, as its own service account, pushed with dead letters', async () => {
    const fn = resource('google_cloudfunctions2_function.responder');
    expect(firstBody(fn['build_config'])['entry_point']).toBe('respondSocatFinding');
    expect(await referencesIn(firstBody(firstBody(firstBody(fn['build_config'])['source'])['storage_source'])['object'] ?? null)).toEqual(['google_storage_bucket_object.function_source.name']);
    expect(await referencesIn(firstBody(fn['service_config'])['service_account_email'] ?? null)).toEqual(['google_service_account.responder.0.email']);
    const sub = resource('google_pubsub_subscription.responses_push');
    expect(await referencesIn(firstBody(sub['dead_letter_policy'])['dead_letter_topic'] ?? null)).toEqual(['google_pubsub_topic.dead_letter.id']);
    expect(await referencesIn(firstBody(sub['push_config'])['push_endpoint'] ?? null)).toEqual(expect.arrayContaining([expect.stringMatching(/^google_cloudfunctions2_function\.responder\./)]));
  });

  it('enables the Data Access (DATA_WRITE) audit log of SCC, where the marks update is recorded', () => {
    const audit = resource('google_organization_iam_audit_config.scc_data_write');
    expect(audit['service']).toBe('securitycenter.googleapis.com');
    expect(firstBody(audit['audit_log_config'])['log_type']).toBe('DATA_WRITE');
    expect(String(audit['count'])).toBe('${var.enable_response && var.manage_scc_data_access_audit_config ? 1 : 0}');
  });

  it('keeps evidence under a retention policy whose period and lock are variables, never force-destroyed', async () => {
    const bucket = resource('google_storage_bucket.evidence');
    const retention = firstBody(bucket['retention_policy']);
    expect(await referencesIn(retention['retention_period'] ?? null)).toEqual(['var.evidence_retention_seconds']);
    expect(await referencesIn(retention['is_locked'] ?? null)).toEqual(['var.evidence_retention_locked']);
    expect(variableDefault('evidence_retention_locked')).toBe(false);
    expect(bucket['force_destroy']).toBe(false);
    expect(bucket['public_access_prevention']).toBe('enforced');
  });
});
