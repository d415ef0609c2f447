/**
 * The cluster section of the source properties says how the Kubernetes
 * sections were read (or why they could not be), and never carries the
 * endpoint or CA the gatherers used (ARCHITECTURE.md invariants).
 */
import { describe, expect, it } from '@jest/globals';
import { parseNotification } from '../../lib/finding/parse.js';
import type { ClusterSection } from '../../lib/gather/sections.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import { reportProperties } from '../../lib/scc/properties.js';
import { notificationFixture } from '../support/fixtures.js';

const finding = parseNotification(notificationFixture('socat-v2'));
const SECRET_CA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClNFQ1JFVC1DQQo=';

function cluster(overrides: Partial<ClusterSection>): ClusterSection {
  return {
    location: 'us-central1',
    locationType: 'regional',
    status: 'RUNNING',
    currentMasterVersion: '1.31.5-gke.1023000',
    labels: {},
    ownerLabels: {},
    network: null,
    subnetwork: null,
    podCidr: null,
    servicesCidr: null,
    networkPolicyEnforced: null,
    workloadIdentityPool: null,
    privateEndpoint: true,
    loggingComponents: null,
    nodePool: null,
    consoleUrl: null,
    controlPlanePath: null,
    controlPlaneUnreachable: null,
    access: null,
    ...overrides,
  };
}

function properties(section: ClusterSection) {
  return reportProperties(analyzeFinding(finding, { sections: { cluster: section }, gaps: [] }));
}

describe('J32_Cluster_Control_Plane_Path', () => {
  it('names the path used, without the endpoint or the CA', () => {
    const p = properties(cluster({ controlPlanePath: 'dns-endpoint', access: { endpoint: 'gke-secret-endpoint.us-central1.gke.goog', caCertificate: null } }));
    expect(p['J32_Cluster_Control_Plane_Path']).toBe('dns-endpoint');
    expect(JSON.stringify(p)).not.toContain('gke-secret-endpoint');
    const q = properties(cluster({ controlPlanePath: 'private-ip', access: { endpoint: '10.9.8.7', caCertificate: SECRET_CA } }));
    expect(q['J32_Cluster_Control_Plane_Path']).toBe('private-ip');
    expect(JSON.stringify(q)).not.toContain('10.9.8.7');
    expect(JSON.stringify(q)).not.toContain(SECRET_CA);
  });

  it('says why no path works when none does', () => {
    const reason = 'control plane unreachable: its IP endpoints are disabled and its DNS endpoint takes no external traffic; allow external traffic on its DNS endpoint';
    expect(properties(cluster({ controlPlaneUnreachable: reason }))['J32_Cluster_Control_Plane_Path']).toBe(reason);
  });
});
