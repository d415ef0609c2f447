/**
 * Names and links derived from the original finding. The enrichment finding's
 * id is a pure function of the original's name, which is what makes every
 * redelivery and re-detection land on the same enrichment finding.
 */
import { createHash } from 'node:crypto';

export const ENRICHMENT_CATEGORY = 'Socat Reverse Shell Triage';

/** 32 hex chars: within SCC's 1–32 alphanumeric findingId rule. */
export function enrichmentFindingId(originalFindingName: string): string {
  return createHash('sha256').update(originalFindingName).digest('hex').slice(0, 32);
}

export function enrichmentFindingName(sourceName: string, originalFindingName: string): string {
  return `${sourceName}/locations/global/findings/${enrichmentFindingId(originalFindingName)}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** encodeURIComponent throws on a lone surrogate; a hostile finding name must not turn into a crash (and a poison message). */
function encode(text: string): string {
  return encodeURIComponent(text.replace(LONE_SURROGATE, '\uFFFD'));
}

export function findingConsoleUrl(findingName: string, organization: string | null): string {
  const base = `https://console.cloud.google.com/security/command-center/findingsv2;name=${encode(findingName)}`;
  return organization === null ? base : `${base}?organizationId=${encode(organization)}`;
}
