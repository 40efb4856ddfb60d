/**
 * Secrets out of text: the patterns every log line and status response passes through, and the
 * URL form shown by `copilot config` and in messages.
 */

const REDACTED = '****';

const SECRET_PATTERNS: Array<[RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  // URL credentials: scheme://user:pass@host -> scheme://user:****@host. The password runs to the
  // last '@' of the authority, as URL parsers read it (a raw '@' in a password is still hidden).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:)[^\s/?#]*@/gi, `$1${REDACTED}@`],
  // key=value / key: value passwords (libpq strings, query parameters, JSON-ish text).
  [
    /(\b(?:password|passwd|pwd|secret|api[_-]?key|token)\b["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,"'}]+)/gi,
    (_m: string, key: string, value: string) => {
      const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
      return `${key}${q}${REDACTED}${q}`;
    },
  ],
  // Authorization headers.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{8,}=*/g, `$1 ${REDACTED}`],
  [/\b(Bot)\s+[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}/g, `$1 ${REDACTED}`],
  // Discord bot tokens and JWT-like three-part tokens (kept loose: a longer token must not leak a tail).
  [/[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}/g, REDACTED],
  // Provider API keys: Groq, Hugging Face, OpenAI-style.
  [/\b(gsk|hf)_[A-Za-z0-9]{8,}/g, `$1_${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${REDACTED}`],
];

/**
 * Remove anything that looks like a secret from free text: URL passwords, `password=` values,
 * Bearer/Basic/Bot authorization values, Discord bot tokens (and JWTs), `gsk_…` / `hf_…` / `sk-…`
 * keys. `known` lists literal secrets (e.g. the configured token) replaced wherever they appear.
 */
export function redactSecrets(text: string, known: readonly (string | undefined | null)[] = []): string {
  let out = String(text);
  for (const secret of known) {
    if (secret && secret.length >= 6) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of SECRET_PATTERNS) {
    out = typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  return out;
}

/** Query parameters that carry a secret (libpq's `password` and `sslpassword`, API tokens). */
const SECRET_PARAM = /^(?:password|sslpassword|passwd|pwd|secret|token|access[-_]?token|api[-_]?key)$/i;

/**
 * A URL with its password replaced — in the user info and in query parameters such as
 * `?password=` or `sslpassword=` — safe for messages and `config list`.
 */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = REDACTED;
    for (const key of new Set(parsed.searchParams.keys())) {
      if (SECRET_PARAM.test(key)) parsed.searchParams.set(key, REDACTED);
    }
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
