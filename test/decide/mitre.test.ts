import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapMitre, MITRE_TACTICS, MITRE_TECHNIQUES } from '../../lib/decide/mitre.js';
import type { MitreInfo } from '../../lib/finding/types.js';
import { projectRoot } from '../support/fixtures.js';

const PROTO = 'node_modules/@google-cloud/security-center/build/protos/google/cloud/securitycenter/v2/mitre_attack.proto';

interface EnumValue {
  name: string;
  /** The ATT&CK ID in the comment just above the value; null when the comment has none. */
  id: string | null;
}

/** The values of `enum NAME { ... }` with the ID each one's comment states. */
function protoEnum(source: string, enumName: string): EnumValue[] {
  const start = source.indexOf(`enum ${enumName} {`);
  if (start < 0) throw new Error(`enum ${enumName} not found in ${PROTO}`);
  const body = source.slice(start, source.indexOf('}', start));
  const values: EnumValue[] = [];
  let comment: string[] = [];
  for (const raw of body.split('\n').slice(1)) {
    const line = raw.trim();
    if (line.startsWith('//')) {
      comment.push(line.slice(2).trim());
      continue;
    }
    const value = /^([A-Z0-9_]+)\s*=\s*\d+\s*;$/.exec(line);
    if (value) {
      const id = /^(TA\d{4}|T\d{4}(?:\.\d{3})?)$/.exec(comment.join(' '));
      values.push({ name: value[1] as string, id: id?.[1] ?? null });
    }
    if (line !== '') comment = [];
  }
  return values;
}

const source = readFileSync(join(projectRoot(), PROTO), 'utf8');
const tactics = protoEnum(source, 'Tactic').filter((v) => v.name !== 'TACTIC_UNSPECIFIED');
const techniques = protoEnum(source, 'Technique').filter((v) => v.name !== 'TECHNIQUE_UNSPECIFIED');

function info(partial: Partial<MitreInfo>): MitreInfo {
  return { primaryTactic: null, primaryTechniques: [], additionalTactics: [], additionalTechniques: [], version: null, ...partial };
}

describe('the tables agree with the SCC v2 proto', () => {
  it('the proto parse found every enum value with an ID comment', () => {
    expect(tactics).toHaveLength(14);
    expect(techniques.length).toBeGreaterThanOrEqual(137);
    expect([...tactics, ...techniques].filter((v) => v.id === null)).toEqual([]);
  });

  it.each(tactics.map((v) => [v.name, v.id] as const))('tactic %s → %s', (name, id) => {
    const mapping = mapMitre(info({ primaryTactic: name }));
    expect(mapping?.primaryTactic).toEqual({ name, id, url: `https://attack.mitre.org/tactics/${id}/` });
  });

  it.each(techniques.map((v) => [v.name, v.id] as const))('technique %s → %s', (name, id) => {
    const mapping = mapMitre(info({ primaryTechniques: [name] }));
    expect(mapping?.techniques).toEqual([{ name, id, url: `https://attack.mitre.org/techniques/${(id as string).replace('.', '/')}/` }]);
  });

  it('the tables hold nothing the proto does not (every ID is verifiable)', () => {
    expect(new Map([...MITRE_TACTICS])).toEqual(new Map(tactics.map((v) => [v.name, v.id])));
    expect(new Map([...MITRE_TECHNIQUES])).toEqual(new Map(techniques.map((v) => [v.name, v.id])));
  });
});

describe('mapMitre', () => {
  it('maps the socat finding: EXECUTION, UNIX_SHELL, COMMAND_AND_SCRIPTING_INTERPRETER', () => {
    expect(
      mapMitre(info({ primaryTactic: 'EXECUTION', primaryTechniques: ['UNIX_SHELL', 'COMMAND_AND_SCRIPTING_INTERPRETER'], version: '8' })),
    ).toEqual({
      primaryTactic: { name: 'EXECUTION', id: 'TA0002', url: 'https://attack.mitre.org/tactics/TA0002/' },
      tactics: [{ name: 'EXECUTION', id: 'TA0002', url: 'https://attack.mitre.org/tactics/TA0002/' }],
      techniques: [
        { name: 'UNIX_SHELL', id: 'T1059.004', url: 'https://attack.mitre.org/techniques/T1059/004/' },
        { name: 'COMMAND_AND_SCRIPTING_INTERPRETER', id: 'T1059', url: 'https://attack.mitre.org/techniques/T1059/' },
      ],
      version: '8',
    });
  });

  it('returns null without MITRE data', () => {
    expect(mapMitre(null)).toBeNull();
  });

  it('lists the primary tactic first, then additional ones, without duplicates', () => {
    const mapping = mapMitre(info({ primaryTactic: 'EXECUTION', additionalTactics: ['COMMAND_AND_CONTROL', 'EXECUTION', 'PERSISTENCE'] }));
    expect(mapping?.tactics.map((t) => t.id)).toEqual(['TA0002', 'TA0011', 'TA0003']);
  });

  it('lists primary techniques before additional ones, without duplicates', () => {
    const mapping = mapMitre(
      info({ primaryTechniques: ['UNIX_SHELL'], additionalTechniques: ['INGRESS_TOOL_TRANSFER', 'UNIX_SHELL', 'PROXY'] }),
    );
    expect(mapping?.techniques.map((t) => t.id)).toEqual(['T1059.004', 'T1105', 'T1090']);
  });

  it('keeps an unknown enum with null id and url', () => {
    const mapping = mapMitre(info({ primaryTactic: 'TIME_TRAVEL', primaryTechniques: ['QUANTUM_TUNNELING'] }));
    expect(mapping?.primaryTactic).toEqual({ name: 'TIME_TRAVEL', id: null, url: null });
    expect(mapping?.techniques).toEqual([{ name: 'QUANTUM_TUNNELING', id: null, url: null }]);
  });

  it.each([
    ['Command and Control', 'TA0011'],
    ['command-and-control', 'TA0011'],
    [' execution ', 'TA0002'],
    ['TA0040', 'TA0040'],
    ['ta0002', 'TA0002'],
  ])('tactic spelled %p → %s', (name, id) => {
    expect(mapMitre(info({ primaryTactic: name }))?.primaryTactic?.id).toBe(id);
  });

  it.each([
    ['Unix Shell', 'T1059.004', 'https://attack.mitre.org/techniques/T1059/004/'],
    ['T1611', 'T1611', 'https://attack.mitre.org/techniques/T1611/'],
    ['t1059.004', 'T1059.004', 'https://attack.mitre.org/techniques/T1059/004/'],
  ])('technique spelled %p → %s', (name, id, url) => {
    expect(mapMitre(info({ primaryTechniques: [name] }))?.techniques[0]).toMatchObject({ id, url });
  });

  it('drops unspecified, empty and non-string values', () => {
    const mapping = mapMitre(
      info({
        primaryTactic: 'TACTIC_UNSPECIFIED',
        additionalTactics: ['', '  ', 7 as unknown as string],
        primaryTechniques: ['TECHNIQUE_UNSPECIFIED', null as unknown as string],
        additionalTechniques: 'UNIX_SHELL' as unknown as string[],
        version: '  ',
      }),
    );
    expect(mapping).toEqual({ primaryTactic: null, tactics: [], techniques: [], version: null });
  });

  it('ignores absurdly long names instead of normalising them', () => {
    const mapping = mapMitre(info({ primaryTechniques: ['UNIX_SHELL' + '_'.repeat(500)] }));
    expect(mapping?.techniques).toEqual([]);
  });
});
