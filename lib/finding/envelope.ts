/**
 * Unwraps whatever arrives into a NotificationMessage object. Four shapes are
 * accepted, because the same finding reaches us through different doors:
 * a CloudEvent's data or a Pub/Sub push body ({message: {data: base64}}), a
 * NotificationMessage ({finding, resource}), or a bare Finding (the CLI).
 */
import { InvalidInputError } from '../errors.js';

export interface Delivery {
  messageId: string | null;
  /** RFC 3339; when Pub/Sub accepted the message (the event's age is measured from here). */
  publishTime: string | null;
}

export interface Unwrapped {
  notification: unknown;
  delivery: Delivery | null;
}

/** 10 MB is Pub/Sub's message limit; anything larger is not an SCC notification. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`${what} is not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
}

function decodePubSubMessage(message: unknown): Unwrapped {
  if (!isObject(message)) throw new InvalidInputError('message is not an object');
  const { data } = message;
  if (typeof data !== 'string' || data === '') throw new InvalidInputError('message.data is missing or not a base64 string');
  if (data.length > (MAX_MESSAGE_BYTES * 4) / 3 + 4) throw new InvalidInputError('message.data exceeds the 10 MB Pub/Sub limit');
  const compact = data.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw new InvalidInputError('message.data is not base64');
  const text = Buffer.from(compact, 'base64').toString('utf8');
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    notification: parseJsonText(text, 'message.data'),
    delivery: { messageId: str(message.messageId) ?? str(message.message_id), publishTime: str(message.publishTime) ?? str(message.publish_time) },
  };
}

export function unwrapEnvelope(input: unknown): Unwrapped {
  if (!isObject(input)) throw new InvalidInputError('the event body is not a JSON object');
  if ('message' in input) return decodePubSubMessage(input.message);
  if ('finding' in input) return { notification: input, delivery: null };
  // A bare Finding: wrap it so there is one parse path.
  if ('category' in input && 'name' in input) return { notification: { finding: input }, delivery: null };
  throw new InvalidInputError('not a Pub/Sub message, NotificationMessage or Finding: expected a "message", "finding" or finding fields "name" and "category"');
}
