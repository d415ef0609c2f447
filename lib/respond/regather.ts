/**
 * The evidence files an approved capture keeps when the responder carries it
 * out (issue #15): nobody hands it a `triage --save-evidence` directory, so it
 * re-gathers them at capture time, the way `triage --save-evidence` gathers
 * them: the original finding read from SCC by name and parsed as the triage
 * parses it (lib/cli/scc.ts readFindingByName, which `triage NAME` uses), the
 * evidence gatherers run under GATHER_DEADLINE_MS with an EvidenceCollector
 * as their recorder, and the files rendered as save-evidence writes them
 * (lib/respond/evidence-files.ts gatheredEvidence). The record's origin says
 * they are as of the capture, not of the triage.
 *
 * Keeping the files never decides the snapshot: whatever goes wrong here
 * (no EVIDENCE_BUCKET, the finding unreadable, an API error) comes back as
 * evidence without files whose `unavailable` says why, and the capture
 * records that reason next to its snapshot.
 */
import type { Config } from '../config.js';
import { readFindingByName, type SccReader } from '../cli/scc.js';
import { parseFindingName } from '../cli/input.js';
import { EvidenceCollector } from '../cli/save-evidence.js';
import { describeError } from '../errors.js';
import type { GatherDeps } from '../gather/deps.js';
import type { EvidenceRecorder } from '../gather/evidence.js';
import { evidenceGatherers } from '../gather/registry.js';
import { runGatherers } from '../gather/runner.js';
import { cleanLine } from '../sanitize.js';
import { gatheredEvidence } from './evidence-files.js';
import type { CaptureEvidence, ResponseSubject } from './types.js';

/** The evidence files for one detection; resolves (never rejects) with `unavailable` set when there are none. */
export type EvidenceProvider = (subject: ResponseSubject) => Promise<CaptureEvidence>;

export interface RegatherDeps {
  config: Pick<Config, 'evidenceBucket' | 'gatherDeadlineMs' | 'disabledGatherers'>;
  /** Reads the original finding (securitycenter.findings.list: v2 has no GetFinding). */
  scc: () => Promise<SccReader>;
  /** The gatherers' dependencies with this recorder, and a cache of their own: nothing read before the capture is reused. */
  gatherDeps: (evidence: EvidenceRecorder) => GatherDeps;
  now: () => Date;
}

function none(bucket: string | null, unavailable: string): CaptureEvidence {
  return { bucket, files: [], origin: 'not re-gathered', unavailable };
}

export function regatheredEvidence(deps: RegatherDeps): EvidenceProvider {
  return async (subject) => {
    const bucket = deps.config.evidenceBucket;
    // Nowhere to keep them write-once: reading them would only put secrets in memory for nothing.
    if (bucket === null) return none(null, 'EVIDENCE_BUCKET is not set, so there is no write-once store for them (only the snapshot is taken)');
    const ref = parseFindingName(subject.findingName);
    if (ref === null) return none(bucket, `the report's original finding ${JSON.stringify(cleanLine(subject.findingName, 200))} is not a finding name, so it could not be read to re-gather them`);
    const gatheredAt = deps.now();
    try {
      const read = await readFindingByName(await deps.scc(), ref);
      if (read === null) return none(bucket, `re-gathering them failed: the original finding ${ref.name} was not found (ListFindings on ${ref.parent} returned nothing)`);
      const collector = new EvidenceCollector();
      await runGatherers(evidenceGatherers(deps.config.disabledGatherers), { finding: read.finding, deps: deps.gatherDeps(collector), deadlineMs: deps.config.gatherDeadlineMs });
      return await gatheredEvidence(collector, read.text, bucket, gatheredAt);
    } catch (err) {
      return none(bucket, `re-gathering them failed: ${cleanLine(describeError(err), 300)}`);
    }
  };
}
