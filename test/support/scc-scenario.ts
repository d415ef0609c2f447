/**
 * Seeds the SCC emulator the way a real organization looks when a socat
 * finding arrives: CTD's source holding the finding, and our own source.
 * Shared by the write-back and function tests and by the demo.
 */
import { createRequire } from 'node:module';
import { protobuf, serializer } from 'google-gax';
import { CTD_SOURCE_DISPLAY_NAME, fromProtoValue, type SccEmulator } from '../emulators/scc-emulator.js';

export const ORG = '123456789012';
export const CTD_SOURCE = `organizations/${ORG}/sources/9876543210123456789`;
export const OWN_SOURCE = `organizations/${ORG}/sources/4242424242424242424`;

export function seedSources(emu: SccEmulator): void {
  emu.addSource({ name: CTD_SOURCE, displayName: CTD_SOURCE_DISPLAY_NAME });
  emu.addSource({ name: OWN_SOURCE, displayName: 'Socat Triage', description: 'Enrichment reports by scc-socat-triage' });
}

let findingType: protobuf.Type | null = null;

/** A Finding in proto3 JSON (as notifications carry it) → the client's object shape, via the same serializer gax uses. */
export function findingFromJson(json: Record<string, unknown>): Record<string, unknown> {
  findingType ??= protobuf.Root.fromJSON(createRequire(import.meta.url)('@google-cloud/security-center/build/protos/protos.json')).lookupType('google.cloud.securitycenter.v2.Finding');
  const message = serializer.fromProto3JSON(findingType, json as never);
  return findingType.toObject(message as protobuf.Message, { longs: String, enums: String }) as Record<string, unknown>;
}

/** Seeds the notification's finding into CTD's source, as SCC holds it. */
export function seedOriginal(emu: SccEmulator, notification: Record<string, any>): void {
  const { name, canonicalName: _canonical, sourceProperties, ...rest } = notification.finding;
  // sourceProperties stay plain JSON: the emulator's seed converts them to google.protobuf.Value itself.
  emu.addFinding(name, { ...findingFromJson(rest), sourceProperties });
}

/** Source properties of a stored finding as plain JSON values. */
export function plainProperties(finding: { sourceProperties?: Record<string, any> | null } | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(finding?.sourceProperties ?? {}).map(([k, v]) => [k, fromProtoValue(v)]));
}

/** The findings in our own source. */
export function ownFindings(emu: SccEmulator): Array<Record<string, any>> {
  return emu.listAllFindings().filter((f: Record<string, any>) => String(f.name).startsWith(`${OWN_SOURCE}/`));
}
