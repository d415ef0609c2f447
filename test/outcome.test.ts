import { describe, expect, it } from '@jest/globals';
import { classifyError, describeError, InvalidInputError } from '../lib/errors.js';
import { disposition, outcomeForError } from '../lib/outcome.js';

const grpcError = (code: number, message = 'boom') => Object.assign(new Error(`${code} X: ${message}`), { code });
const httpError = (statusCode: number) => Object.assign(new Error(`HTTP ${statusCode}`), { statusCode });
const netError = (code: string) => Object.assign(new Error(code), { code });

describe('error taxonomy', () => {
  it.each([
    ['UNAVAILABLE', grpcError(14), 'transient'],
    ['DEADLINE_EXCEEDED', grpcError(4), 'transient'],
    ['RESOURCE_EXHAUSTED', grpcError(8), 'transient'],
    ['ABORTED', grpcError(10), 'transient'],
    ['INTERNAL', grpcError(13), 'transient'],
    ['HTTP 429', httpError(429), 'transient'],
    ['HTTP 503', httpError(503), 'transient'],
    ['ECONNRESET', netError('ECONNRESET'), 'transient'],
    ['an unknown error', new Error('???'), 'transient'],
    ['INVALID_ARGUMENT', grpcError(3), 'permanent'],
    ['PERMISSION_DENIED', grpcError(7), 'permanent'],
    ['NOT_FOUND', grpcError(5), 'permanent'],
    ['UNAUTHENTICATED', grpcError(16), 'permanent'],
    ['HTTP 403', httpError(403), 'permanent'],
    ['HTTP 404', httpError(404), 'permanent'],
    ['invalid input', new InvalidInputError('bad'), 'permanent'],
    ['a transient cause', new Error('wrapped', { cause: grpcError(14) }), 'transient'],
  ])('%s is %s', (_name, err, expected) => {
    expect(classifyError(err)).toBe(expected);
  });

  it('maps classes to outcomes and outcomes to ack or retry', () => {
    expect(outcomeForError(new InvalidInputError('no finding'), 'input')).toEqual({ outcome: 'rejected', reason: 'no finding' });
    expect(outcomeForError(grpcError(14, 'down'), 'write-back')).toEqual({ outcome: 'retry', reason: 'write-back: UNAVAILABLE: down' });
    expect(outcomeForError(grpcError(7, 'denied'), 'write-back')).toEqual({ outcome: 'failed_permanent', reason: 'write-back: PERMISSION_DENIED: denied' });
    expect(disposition('retry')).toBe('retry');
    for (const kind of ['triaged', 'skipped', 'rejected', 'failed_permanent'] as const) expect(disposition(kind)).toBe('ack');
  });

  it('describes errors on one capped line', () => {
    const d = describeError(grpcError(3, 'line one\nline two' + 'x'.repeat(1000)));
    expect(d).toBe('INVALID_ARGUMENT: line one');
    expect(describeError(new Error('y'.repeat(1000))).length).toBe(300);
  });
});
