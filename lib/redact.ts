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
  'slack-webhook',
  'gitlab-token',
  'npm-token',
  'stripe-key',
  'oauth-client-secret',
  'google-refresh-token',
  'signed-url',
  'pem-body',
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

// Incoming-webhook URLs carry their secret in the path (https://api.slack.com/messaging/webhooks):
// the host stays, so the reader sees it was a Slack webhook.
const SLACK_WEBHOOK = /(?<![A-Za-z0-9.-])(hooks\.slack\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9_/-]{8,512}/gi;

// Personal, deploy, runner, pipeline-trigger, feed and OAuth-app tokens share a gl…- prefix
// (https://docs.gitlab.com/security/tokens/#token-prefixes).
const GITLAB_TOKEN = /(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|ft|soat|imt|oas)-[A-Za-z0-9_-]{20,255}(?![A-Za-z0-9_-])/g;

// npm access tokens: npm_ and 36 alphanumerics (https://github.blog/2021-09-23-announcing-npms-new-access-token-format/).
const NPM_TOKEN = /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g;

// Stripe secret and restricted keys, live and test (https://docs.stripe.com/keys), and webhook signing secrets.
const STRIPE_KEY = /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}|whsec_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_])/g;

// Google OAuth client secrets issued since 2021 start with GOCSPX- and 28 characters of [A-Za-z0-9_-]
// (client_secret.json files and .env samples in public repositories; "-" also occurs right after the prefix).
const OAUTH_CLIENT_SECRET = /(?<![A-Za-z0-9_-])GOCSPX-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/g;

// Google OAuth refresh tokens start "1//0" then a letter and "CgYIARAAG…" (token responses in Google's
// OAuth guides and public samples: "1//0gQ7N…", "1//0fQue…", "1//04…"). Not after "/" or ":", so a
// URL's "…:1//0…" path is left alone.
const GOOGLE_REFRESH_TOKEN = /(?<![A-Za-z0-9_./:-])1\/\/0[A-Za-z0-9_-]{20,2048}/g;

// Signed URLs: the signature and the credential parameters are what grant access. V4 signing
// (https://cloud.google.com/storage/docs/authentication/signatures, AWS SigV4 query auth) is
// matched by key (keyKind); the V2 forms' bare Signature= (GCS with GoogleAccessId, S3 with
// AWSAccessKeyId) and Azure SAS's sig= only as query parameters.
const QUERY_SIGNATURE = /([?&](?:Signature|sig)=)([^&\s"'#<>]{1,4096})/g;

// A base64 blob that decodes to a credential file: a service-account or authorized-user JSON key
// ({ → "ew" or "ey") or a PEM private key ("-----BEGIN" → "LS0tLS1CRUdJTi"), as Kubernetes Secrets and
// GOOGLE_CREDENTIALS-style variables hold them; wrapped lines are followed by wrappedEnd. Whether it
// is one is decided by decoding its start, not by its look.
const BASE64_BLOB = /(?<![A-Za-z0-9+/=_-])(?:e[wy]|LS0tLS1CRUdJTi)[A-Za-z0-9+/]{60,65536}={0,2}/g;
const CREDENTIAL_JSON = /"type"\s{0,8}:\s{0,8}"(?:service_account|authorized_user)"|"private_key(?:_id)?"\s{0,8}:|"refresh_token"\s{0,8}:|"client_secret"\s{0,8}:/;
const PEM_PRIVATE_HEADER = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY/;

// A private key's DER body without its BEGIN line: PKCS#8 (30 8x .. 02 01 00), PKCS#1 RSA, SEC1 EC
// (02 01 01 04), Ed25519/X25519 (30 2E 02 01 00 30), and encrypted PKCS#8 (PBES2 and PKCS#12 PBE
// OIDs), as `openssl genpkey` writes them. A certificate (30 82 .. 30 82) does not match.
const DER_PRIVATE_KEY =
  /(?<![A-Za-z0-9+/])M(?:II[A-Za-z0-9+/]{2}[AQgw]IBA[AD]|IG[A-Za-z0-9+/]AgEA|[A-Za-z0-9+/]{2}CAQ[AE]|II[A-Za-z0-9+/]{5}Bg(?:kqhkiG9w0BBQ[0-9A-Za-z]w|oqhkiG9w0BDAE))[A-Za-z0-9+/]{8,16384}={0,2}/g;

// Lines of a PEM body on their own (a key printed line by line, its BEGIN line elsewhere): full
// 64-character lines and the short last one. Which PEM they belonged to cannot be told from one line;
// the check for both letter cases keeps hex digests (64 hex characters) out. A block right under a
// BEGIN line is a certificate or public key (private keys went whole before), and a block starts only
// where no body line precedes it, so a certificate is not taken from its second line on.
const PEM_BODY_LINES = /^(?<!-----BEGIN [A-Z0-9 ]{1,40}-----[ \t]{0,16}\r?\n)(?<![A-Za-z0-9+/]{64}[ \t]{0,16}\r?\n)(?:[ \t]{0,16}[A-Za-z0-9+/]{64}[ \t]{0,16}(?:\r?\n|$)){1,1024}(?:[ \t]{0,16}[A-Za-z0-9+/]{1,63}={0,2}[ \t]{0,16}\r?$)?/gm;

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
/**
 * Whole names of variables that hold a credential without saying so in a last
 * word: SSHPASS (sshpass -e), REDISCLI_AUTH (redis-cli), npm's _auth and
 * NPM_CONFIG__AUTH. Compared on the words joined (case and separators ignored).
 */
const CREDENTIAL_NAMES = new Map<string, SecretKind>([
  ['sshpass', 'password'],
  ['rediscliauth', 'password'],
  ['npmconfigauth', 'token'],
  ['auth', 'token'],
]);
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
  // npm's _auth (a base64 user:password); a bare "auth" key is too common in logs to mean a secret.
  if (joined === 'auth') return key.startsWith('_') ? 'token' : null;
  const named = CREDENTIAL_NAMES.get(joined);
  if (named !== undefined) return named;
  if (PASSWORD_WORDS.has(last)) return 'password';
  // PGPASSWORD, MYSQL_PWD (above), DB_PASS, SMTP_PASS, RABBITMQ_DEFAULT_PASS: a lone "pass=12" stays (test counts).
  if (/(?:password|passwd|passphrase)$/.test(last) || (last === 'pass' && prev !== undefined)) return 'password';
  // V4 signed URLs: X-Goog-Signature / X-Amz-Signature and the credential scope beside them.
  if ((prev === 'goog' || prev === 'amz') && (last === 'signature' || last === 'credential')) return 'signed-url';
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
  out = out.replace(SLACK_WEBHOOK, (_whole, path: string) => `${path}${marker('slack-webhook')}`);
  out = out.replace(GITLAB_TOKEN, marker('gitlab-token'));
  out = out.replace(NPM_TOKEN, marker('npm-token'));
  out = out.replace(STRIPE_KEY, marker('stripe-key'));
  out = out.replace(OAUTH_CLIENT_SECRET, marker('oauth-client-secret'));
  out = out.replace(GOOGLE_REFRESH_TOKEN, marker('google-refresh-token'));
  out = out.replace(QUERY_SIGNATURE, (whole, key: string, value: string) => (alreadyRedacted(value) ? whole : `${key}${marker('signed-url')}`));
  out = replaceWrapped(out, BASE64_BLOB, (blob) => base64CredentialKind(blob));
  out = replaceWrapped(out, DER_PRIVATE_KEY, () => marker('private-key'));
  out = out.replace(PEM_BODY_LINES, (block: string) => (/[A-Z]/.test(block) && /[a-z]/.test(block) && !/^[0-9A-Fa-f\s]*$/.test(block) ? marker('pem-body') + (/\n$/.test(block) ? '\n' : '') : block));
  out = replaceKeyed(out, KEY_SEP, KEY_VALUE, (m) => ({ key: m[2] as string, prefix: `${m[1]}${m[2]}${m[1]}${m[3]}` }));
  out = replaceKeyed(out, FLAG_SEP, FLAG_VALUE, (m) => ({ key: (m[1] as string).replace(/^-+/, ''), prefix: `${m[1]}${m[2]}` }));
  out = redactProgramFlags(out);
  return out;
}

const BASE64_LINE = /[A-Za-z0-9+/]{1,76}={0,2}/y;

/**
 * Where a base64 run that may be wrapped ends. base64(1) and PEM wrap at 76
 * and 64 characters: while the run's last line is exactly that wide and the
 * next line is base64 alone, no wider, the run goes on; a shorter line is its
 * last. A word on the next line ("done") is not swallowed, unless it is
 * 64 or 76 base64 characters or looks encoded. Each line is read once.
 */
function wrappedEnd(text: string, start: number, end: number): number {
  const width = end - start;
  if (width !== 64 && width !== 76) return end;
  let at = end;
  for (;;) {
    const nl = text.startsWith('\r\n', at) ? 2 : text[at] === '\n' ? 1 : 0;
    if (nl === 0) return at;
    BASE64_LINE.lastIndex = at + nl;
    const line = BASE64_LINE.exec(text);
    if (line === null) return at;
    const lineEnd = BASE64_LINE.lastIndex;
    const after = text[lineEnd];
    if (!(after === undefined || after === '\n' || after === '\r' || after === ' ' || after === '\t')) return at;
    const bare = line[0].replace(/=+$/, '').length;
    if (bare > width) return at;
    // A short last line without padding could be a word ("done"): only one that looks encoded is taken.
    const padded = line[0].endsWith('=');
    if (bare < width && !padded && !(line[0].length % 4 === 0 && /[0-9+/]/.test(line[0]) && /[A-Z]/.test(line[0]) && /[a-z]/.test(line[0]))) return at;
    at = lineEnd;
    if (bare < width || padded) return at;
  }
}

/** Replaces each match of `re` (global) with what `replace` says (null keeps it), the match extended over its wrapped lines first. */
function replaceWrapped(text: string, re: RegExp, replace: (blob: string) => string | null): string {
  let out = '';
  let copied = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = wrappedEnd(text, m.index, re.lastIndex);
    const replacement = replace(text.slice(m.index, end));
    re.lastIndex = end;
    if (replacement === null) continue;
    out += text.slice(copied, m.index) + replacement;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The marker for a base64 blob that decodes to a credential file, or null. Only the start is decoded: the kind shows there. */
function base64CredentialKind(blob: string): string | null {
  const head = blob.replace(/\s/g, '').slice(0, 1024);
  const text = Buffer.from(head.slice(0, head.length - (head.length % 4)), 'base64').toString('latin1');
  // A JSON key file holds a PEM key too: it is judged as the file it is.
  if (text.trimStart().startsWith('{')) return CREDENTIAL_JSON.test(text) ? marker('service-account-key') : null;
  if (PEM_PRIVATE_HEADER.test(text)) return marker('private-key');
  return null;
}

// ---------------------------------------------------------------------------
// Short flags whose meaning depends on the program: `-p` is mysql's password
// but ssh's and nc's port; `-u user:password` is curl's credentials but
// mysql's user; `-a` is redis-cli's password. They are redacted only after
// the program's name, up to the end of that command.

interface ProgramFlags {
  /** Flags whose value is glued on (`-pVALUE`). */
  attached: readonly string[];
  /** Flags whose value is the next argument (`-p VALUE`). */
  separate: readonly string[];
  /** Flags whose value is user:password; only what follows the first ":" goes. */
  userPassword: readonly string[];
  /** The program's own options end at its first operand (sshpass runs the command that follows). */
  endsAtOperand: boolean;
}

const MYSQL: ProgramFlags = { attached: ['-p'], separate: [], userPassword: [], endsAtOperand: false };
/** mysql(1): "-p[password]: there must be no space between -p and the password" (a separate word is the database). */
const PROGRAM_FLAGS = new Map<string, ProgramFlags>([
  ...['mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlshow', 'mysqlcheck', 'mysqlpump', 'mysqlslap', 'mariadb', 'mariadb-dump', 'mariadb-admin'].map((n) => [n, MYSQL] as const),
  // sshpass(1): -p password (with or without a space), then the command to run.
  ['sshpass', { attached: ['-p'], separate: ['-p'], userPassword: [], endsAtOperand: true }],
  // curl(1): -u/--user user:password, -U/--proxy-user user:password.
  ['curl', { attached: ['-u', '-U'], separate: ['-u', '-U', '--user', '--proxy-user'], userPassword: ['-u', '-U', '--user', '--proxy-user'], endsAtOperand: false }],
  // redis-cli(1): -a password, --pass password.
  ['redis-cli', { attached: [], separate: ['-a', '--pass'], userPassword: [], endsAtOperand: false }],
]);

/** A program name as a command word: its basename, any directory before it. */
const PROGRAM_WORD = /(?<=^|[\s'"(;|&=`:,])(?:[^\s'"`;|&()=:,]{0,256}\/)?(mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlslap|mariadb|mariadb-dump|mariadb-admin|sshpass|curl|redis-cli)(?=[\s'"`;|&)]|$)/g;
/** One shell word (quotes kept), or a command separator. Unambiguous alternatives: linear. */
const WORD = /[ \t]{0,4096}(?:([;|&\n`()])|((?:[^\s;|&()`'"]|'[^'\n]{0,4096}'?|"[^"\n]{0,4096}"?){1,4096}))/y;

/** What replaces a flag's value; null to keep it. */
function redactedValue(flags: ProgramFlags, flag: string, value: string): string | null {
  if (value === '' || alreadyRedacted(value)) return null;
  if (!flags.userPassword.includes(flag)) return marker('password');
  // Quotes around user:password stay, so the command's shape stays readable.
  const q = value[0] === "'" || value[0] === '"' ? value[0] : '';
  const inner = q && value.endsWith(q) && value.length > 1 ? value.slice(1, -1) : value.slice(q.length);
  const colon = inner.indexOf(':');
  if (colon < 0 || colon === inner.length - 1) return null;
  return `${q}${inner.slice(0, colon + 1)}${marker('password')}${q && value.endsWith(q) && value.length > 1 ? q : ''}`;
}

/**
 * Applies one program's flags to a sequence of words, in place. `words[i]`
 * is the word after the program name. Returns the index after the last word
 * the program's options can reach.
 */
function applyProgramFlags(flags: ProgramFlags, words: string[], isSeparator: (i: number) => boolean): void {
  for (let i = 0; i < words.length && !isSeparator(i); i++) {
    const word = words[i] as string;
    if (flags.separate.includes(word) && i + 1 < words.length && !isSeparator(i + 1)) {
      const replaced = redactedValue(flags, word, words[i + 1] as string);
      if (replaced !== null) words[i + 1] = replaced;
      i += 1;
      continue;
    }
    const attached = flags.attached.find((f) => word.startsWith(f) && word.length > f.length && !word.startsWith('--'));
    if (attached !== undefined) {
      const replaced = redactedValue(flags, attached, word.slice(attached.length));
      if (replaced !== null) words[i] = attached + replaced;
      continue;
    }
    if (flags.endsAtOperand && !word.startsWith('-')) return;
  }
}

/** The program-dependent flags in text: a command line, a log line, an EXEC/SYSTEM command. */
function redactProgramFlags(text: string): string {
  let out = '';
  let copied = 0;
  PROGRAM_WORD.lastIndex = 0;
  for (let m = PROGRAM_WORD.exec(text); m !== null; m = PROGRAM_WORD.exec(text)) {
    const flags = PROGRAM_FLAGS.get(m[1] as string)!;
    // The words of this command, up to a separator; scanning resumes after them, so each character is read once.
    const spans: Array<{ start: number; end: number; sep: boolean }> = [];
    let at = PROGRAM_WORD.lastIndex;
    while (spans.length < 4096) {
      WORD.lastIndex = at;
      const w = WORD.exec(text);
      if (w === null || WORD.lastIndex === at) break;
      const start = WORD.lastIndex - (w[1] ?? w[2] ?? '').length;
      spans.push({ start, end: WORD.lastIndex, sep: w[1] !== undefined });
      at = WORD.lastIndex;
      if (w[1] !== undefined) break;
    }
    const words = spans.map((s) => text.slice(s.start, s.end));
    const before = [...words];
    applyProgramFlags(flags, words, (i) => spans[i]!.sep);
    for (let i = 0; i < words.length; i++) {
      if (words[i] === before[i]) continue;
      out += text.slice(copied, spans[i]!.start) + words[i];
      copied = spans[i]!.end;
    }
    PROGRAM_WORD.lastIndex = Math.max(at, PROGRAM_WORD.lastIndex);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The program-dependent flags in an argv: each program named in it (sshpass … mysql …) applies to the arguments after it. */
function redactArgvProgramFlags(argv: string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const name = basename(argv[i] as string);
    const flags = PROGRAM_FLAGS.get(name);
    if (flags === undefined) continue;
    // Up to the next program of the table: its flags mean something else.
    let end = i + 1;
    while (end < argv.length && !PROGRAM_FLAGS.has(basename(argv[end] as string))) end += 1;
    const words = argv.slice(i + 1, end);
    applyProgramFlags(flags, words, () => false);
    for (let j = 0; j < words.length; j++) argv[i + 1 + j] = words[j] as string;
    i = end - 1;
  }
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
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
  redactArgvProgramFlags(out);
  for (let i = 0; i + 1 < argv.length; i++) {
    const flag = LONE_FLAG.exec(argv[i] as string);
    const kind = flag ? keyKind(flag[1] as string) : null;
    if (kind !== null && !isPlaceholder(argv[i + 1] as string, kind, flag![1] as string)) out[i + 1] = marker(kind);
  }
  return out;
}

