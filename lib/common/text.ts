/**
 * Text from outside the program (another process's /proc/PID/comm, the
 * kernel, the environment, the command line) made safe to print on a
 * terminal: every control character becomes a visible escape, so no field can
 * clear the screen, set the window title, move the cursor or split a line.
 */

// C0 and C1 controls and DEL (Cc), format characters such as bidi overrides (Cf),
// the line and paragraph separators, and the backslash (so an escape is never ambiguous).
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029\\]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeOne(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/**
 * `text` with every control or format character (and the backslash) written
 * as an escape: `\n`, `\t`, `\x1b`, `\u{202e}`, `\\`. Printable text,
 * including non-ASCII letters, is unchanged.
 */
export function printable(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}
