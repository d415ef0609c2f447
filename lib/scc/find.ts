/**
 * One finding by name. SCC v2 has no GetFinding: it is a ListFindings with a
 * `name="…"` filter on its source (or a parent above it). Used by the
 * operator commands (lib/cli/scc.ts) and by the write-back, which reads the
 * enrichment finding's response records before it replaces them; nothing
 * here loads more than the request types, so the function's start stays lean.
 */
import type { protos } from '@google-cloud/security-center';
import type { Throttle } from '../retry.js';

export type ListFindingsRequest = protos.google.cloud.securitycenter.v2.IListFindingsRequest;
export type ListFindingsResult = protos.google.cloud.securitycenter.v2.ListFindingsResponse.IListFindingsResult;

/** The part of v2.SecurityCenterClient that reads findings. */
export interface SccReader {
  listFindings(request: ListFindingsRequest, options: { autoPaginate: false }): Promise<[ListFindingsResult[], ListFindingsRequest | null, unknown]>;
}

/**
 * The finding named `ref.name` under `ref.parent`, or null. With a throttle,
 * a refusal for quota is waited out by it; without, the client's own backoff
 * (lib/clients.ts withSccQuotaBackoff) is all there is.
 */
export async function fetchFinding(scc: SccReader, ref: { name: string; parent: string }, throttle: Throttle | null = null): Promise<ListFindingsResult | null> {
  const list = () => scc.listFindings({ parent: ref.parent, filter: `name="${ref.name}"`, pageSize: 1 }, { autoPaginate: false });
  const [results] = await (throttle === null ? list() : throttle.run(list));
  return results.find((r) => r.finding?.name === ref.name) ?? null;
}
