/**
 * Secrets that show up in log lines (credentials in URLs, tokens in headers,
 * keys in environment dumps) must not be copied into the report: SCC findings
 * and their notifications are read by far more people than the workload's
 * logs. Each recognised secret becomes `[REDACTED:<kind>]`; the text around it
 * stays, so the line is still useful.
 *
 * Only secrets with a recognisable shape or a telling key are redacted.
 * There is deliberately no "high-entropy string" rule: image digests, trace
 * ids, UUIDs, pod-template hashes and base64 payloads are everywhere in GKE
 * logs, and hiding them would cost the investigation more than it protects.
 *
 * Inputs may be a megabyte of attacker-influenced text, so every pattern is
 * linear: repetitions are bounded, no quantified group can match the same
 * text two ways, and each token pattern is anchored with a look-behind that
 * rejects a start inside a run of its own characters (so a long run is
 * scanned from one start, not from each of its positions).
 */

export const SECRET_KINDS = [
  'private-key',
  'service-account-key',
  'authorization-header',
  'bearer-token',
  'google-oauth-token',
  'jwt',
  'url-password',
  'google-api-key',
  'aws-access-key-id',
  'aws-secret-access-key',
  'github-token',
  'slack-token',
  'password',
  'secret',
  'token',
  'api-key',
  'access-key',
] as const;

export type SecretKind = (typeof SECRET_KINDS)[number];

const marker = (kind: SecretKind): string => `[REDACTED:${kind}]`;
const alreadyRedacted = (value: string): boolean => value.startsWith('[REDACTED:');

// PEM private keys: the body may hold real newlines or the two characters "\n"
// (a key inside a JSON string), and may be cut off before its END line, in
// which case everything key-like after BEGIN goes. A single "-" is allowed in
// the body (Proc-Type headers); five in a row start the END line.
const PEM_PRIVATE_KEY =
  /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s\\:,.]|-(?!----)){0,16384}(?:-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----)?/g;

// Authorization / Proxy-Authorization headers, as "Key: value", key=value or JSON.
// The scheme (Bearer, Basic...) stays visible: it says what kind of credential it was.
const AUTHORIZATION_HEADER =
  /(?<![A-Za-z0-9_-])((?:proxy-)?authorization)(["']?\s{0,3}[:=]\s{0,3}["']?)(?:(bearer|basic|digest|negotiate|token|bot)\s{1,3})?([^\s"',;]{1,4096})/gi;

// A bearer token anywhere else ("curl -H 'Authorization...'" is caught above).
// At least 16 characters, so prose such as "bearer token expired" survives.
const BEARER = /(?<![A-Za-z0-9_-])(bearer)(\s{1,3})([A-Za-z0-9\-._~+/]{16,4096}=*)/gi;

const GOOGLE_OAUTH_TOKEN = /(?<![A-Za-z0-9_.-])ya29\.[0-9A-Za-z_-]{20,4096}/g;

// header.payload.signature; both JSON parts start with '{"' = "eyJ". The
// signature may be empty (alg "none").
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,16384}\.[A-Za-z0-9_-]{0,4096}/g;

// scheme://user:password@host: the user stays (it names the account), the password goes.
// Up to the last "@" before the path, as a browser reads it: an unencoded "@" in the password does not end it.
const URL_PASSWORD = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)([^\s:@/]{0,256}):([^\s/]{1,1024})@/g;

const GOOGLE_API_KEY = /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g;

// Long-term (AKIA) and temporary (ASIA) access key ids.
const AWS_ACCESS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;

// Classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_) tokens.
const GITHUB_TOKEN = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])/g;

const SLACK_TOKEN = /(?<![A-Za-z0-9-])xox[abprs]-[A-Za-z0-9-]{10,250}/g;

// key=value, key: value, "key": "value", 'key'='value'. The key pattern is
// generic; keyKind() decides whether the key names a secret, which keeps the
// regex linear and lets the key rules be read as code. Only then is the value
// matched (sticky, at the separator's end): matching it up front would let a
// harmless key swallow a secret behind it ("https://host/x?token=..." is key
// "https" with a value running over "token=...").
const KEY_SEP = /(?<![A-Za-z0-9_.-])(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,63})\1(\s{0,3}[:=]\s{0,3})/g;
// A closing quote is optional: a line cut off inside the value still loses its secret.
const KEY_VALUE = /"((?:[^"\\\n]|\\.){0,16384})("?)|'([^'\n]{0,4096})('?)|([^\s"',;&{}[\]()<>]{1,4096})/y;

// --password VALUE / -token=VALUE on command lines.
const FLAG_SEP = /(?<![A-Za-z0-9_-])(--?[A-Za-z][A-Za-z0-9_-]{0,63})([ =])/g;
const FLAG_VALUE = /"([^"\n]{0,4096})(")|'([^'\n]{0,4096})(')|([^\s"']{1,4096})/y;

/** Splits a key into lower-case words: db_password, dbPassword and DB-PASSWORD all give [db, password]. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

const PASSWORD_WORDS = new Set(['password', 'passwd', 'pwd', 'passphrase']);
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'signing', 'encryption', 'master', 'client']);

/**
 * The kind of secret a key names, judged by its last word (the head noun):
 * db_password and auth_token are secrets, token_count and secret_name are not.
 */
function keyKind(key: string): SecretKind | null {
  const words = keyWords(key);
  const last = words[words.length - 1];
  const prev = words[words.length - 2];
  if (last === undefined) return null;
  const joined = words.join('');
  if (joined.endsWith('privatekeyid')) return 'service-account-key';
  if (PASSWORD_WORDS.has(last)) return 'password';
  if (last === 'secret' || last === 'credentials' || last === 'credential') return 'secret';
  if (last === 'token') return 'token';
  if (last === 'apikey') return 'api-key';
  if (last === 'accesskey') return joined.endsWith('secretaccesskey') ? 'aws-secret-access-key' : 'access-key';
  if (last === 'secretkey') return 'secret';
  if (last === 'privatekey') return 'private-key';
  if (last === 'key' && prev !== undefined && KEY_QUALIFIERS.has(prev)) {
    if (joined.endsWith('secretaccesskey')) return 'aws-secret-access-key';
    if (prev === 'api') return 'api-key';
    if (prev === 'private') return 'private-key';
    if (prev === 'access') return 'access-key';
    return 'secret';
  }
  return null;
}

/** Values that carry no secret: redacting them would only hide that the field was empty. */
function isPlaceholder(value: string, kind: SecretKind, key: string): boolean {
  if (value.length === 0 || alreadyRedacted(value)) return true;
  if (/^(?:null|none|true|false|undefined|\*+|x+)$/i.test(value)) return true;
  // The shell's PWD is the working directory, not a password.
  if (kind === 'password' && key.toLowerCase() === 'pwd' && value.startsWith('/')) return true;
  return false;
}

/**
 * Replaces the value after each secret-naming key. `keyRe` (global) finds
 * key + separator; `valueRe` (sticky) then reads the value there. Both are
 * bounded, and scanning resumes after what was read, so the pass is linear.
 */
function replaceKeyed(text: string, keyRe: RegExp, valueRe: RegExp, parts: (m: RegExpExecArray) => { key: string; prefix: string }): string {
  let out = '';
  let copied = 0;
  keyRe.lastIndex = 0;
  for (let m = keyRe.exec(text); m !== null; m = keyRe.exec(text)) {
    const { key, prefix } = parts(m);
    const kind = keyKind(key);
    if (kind === null) continue;
    valueRe.lastIndex = keyRe.lastIndex;
    const v = valueRe.exec(text);
    if (v === null) continue;
    const [, dq, dqEnd, sq, sqEnd, bare] = v;
    const value = dq ?? sq ?? bare ?? '';
    keyRe.lastIndex = valueRe.lastIndex;
    if (isPlaceholder(value, kind, key)) continue;
    const wrapped = dq !== undefined ? `"${marker(kind)}${dqEnd ?? ''}` : sq !== undefined ? `'${marker(kind)}${sqEnd ?? ''}` : marker(kind);
    out += text.slice(copied, m.index) + prefix + wrapped;
    copied = valueRe.lastIndex;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

export function redactSecrets(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  // Whole-blob secrets first, so a key-value rule cannot cut a PEM body in half.
  out = out.replace(PEM_PRIVATE_KEY, marker('private-key'));
  out = out.replace(AUTHORIZATION_HEADER, (whole, key: string, sep: string, scheme: string | undefined, value: string) =>
    alreadyRedacted(value) ? whole : `${key}${sep}${scheme ? `${scheme} ` : ''}${marker('authorization-header')}`,
  );
  out = out.replace(BEARER, (whole, word: string, space: string, value: string) => (alreadyRedacted(value) ? whole : `${word}${space}${marker('bearer-token')}`));
  out = out.replace(JWT, marker('jwt'));
  out = out.replace(GOOGLE_OAUTH_TOKEN, marker('google-oauth-token'));
  out = out.replace(URL_PASSWORD, (_whole, scheme: string, user: string) => `${scheme}${user}:${marker('url-password')}@`);
  out = out.replace(GOOGLE_API_KEY, marker('google-api-key'));
  out = out.replace(AWS_ACCESS_KEY_ID, marker('aws-access-key-id'));
  out = out.replace(GITHUB_TOKEN, marker('github-token'));
  out = out.replace(SLACK_TOKEN, marker('slack-token'));
  out = replaceKeyed(out, KEY_SEP, KEY_VALUE, (m) => ({ key: m[2] as string, prefix: `${m[1]}${m[2]}${m[1]}${m[3]}` }));
  out = replaceKeyed(out, FLAG_SEP, FLAG_VALUE, (m) => ({ key: (m[1] as string).replace(/^-+/, ''), prefix: `${m[1]}${m[2]}` }));
  return out;
}

/**
 * socat address options whose value is a credential or key material:
 * OPENSSL's key= and PROXY's proxyauth=user:password. Options follow a comma
 * and end at the next one or at a `!!` dual-address separator (a single `!`
 * is part of the value); socat reads option names case-insensitively.
 */
const SOCAT_SECRET_OPTION = /(,\s{0,3})(key|proxyauth|proxy-auth|proxy-authorization)(\s{0,3}=)((?:[^,!]|!(?!!)){1,4096})/gi;

/** A secret-naming flag standing alone: its value is the next argument. */
const LONE_FLAG = /^--?([A-Za-z][A-Za-z0-9_-]{0,63})$/;

/**
 * An argv as it is shown (a process's arguments, an exec'd command): each
 * argument redacted as text, plus what only the argv shows — a flag naming a
 * secret whose value is the next argument (`--password VALUE`, `--api-token
 * VALUE`), and socat's credential-carrying address options. Element count and
 * order are kept, so argument boundaries stay readable.
 */
export function redactArgv(argv: readonly string[]): string[] {
  const socatOption = (whole: string, comma: string, name: string, eq: string, value: string): string =>
    alreadyRedacted(value) ? whole : `${comma}${name}${eq}${marker(name.toLowerCase() === 'key' ? 'private-key' : 'password')}`;
  const out = argv.map((a) => redactSecrets(a.replace(SOCAT_SECRET_OPTION, socatOption)));
  for (let i = 0; i + 1 < argv.length; i++) {
    const flag = LONE_FLAG.exec(argv[i] as string);
    const kind = flag ? keyKind(flag[1] as string) : null;
    if (kind !== null && !isPlaceholder(argv[i + 1] as string, kind, flag![1] as string)) out[i + 1] = marker(kind);
  }
  return out;
}

