/**
 * The check behind test/architecture.test.ts's rule that only
 * test/helpers/as-user.ts runs anything as another user (as another user a
 * private checkout may be unreadable; that helper runs from a world-readable
 * copy). It lives here, beside the helper, so that the rule's own patterns
 * and examples are not themselves in a test.
 */
/**
 * Where a test runs something as another user other than through
 * test/helpers/as-user.ts: setpriv, runuser, su, sudo, doas or pkexec named as
 * a command, setpriv's --reuid/--ruid, chroot's --userspec, a spawn `uid:`,
 * process.setuid(). As another user the checkout may be unreadable (a private
 * clone), so only that helper (which runs from a world-readable copy) may.
 */
export function runsAsAnotherUser(files: Map<string, string>): string[] {
  const patterns = [
    /['"](?:setpriv|runuser|su|sudo|doas|pkexec)['"]/,
    /[`'"](?:setpriv|runuser|su|sudo|doas|pkexec)\s+-/,
    /\b(?:runuser\s+-u|sudo\s+-u|su\s+-s|su\s+-c|su\s+(?:-\s+)?(?:nobody|postgres|\$))/,
    /--(?:reuid|ruid|euid|userspec)\b/,
    /\buid\s*:\s*[\w(]/,
    /\bset(?:e|re|res)?uid\s*\(/,
  ];
  const bad: string[] = [];
  for (const [file, text] of files) {
    text.split('\n').forEach((line, i) => {
      if (patterns.some((p) => p.test(line))) bad.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return bad;
}


/** What the checker must flag (each file one way), and ordinary code it must pass. */
export const RUN_AS_EXAMPLES: { readonly flagged: Array<[string, string]>; readonly ordinary: Array<[string, string]> } = {
  flagged: [
    ['a.ts', "spawn('setpriv', ['--reuid=65534', node, cli])"],
    ['b.ts', "runCli(args, { prefix: ['runuser', '-u', 'nobody', '--'] })"],
    ['c.js', "execSync(`su nobody -s /bin/sh -c 'node x.js'`)"],
    ['d.ts', 'spawn(process.execPath, [cli], { uid: 65534, gid: 65534 })'],
    ['e.js', 'process.setuid(65534);'],
    ['f.ts', "execFileSync('sudo', ['-u', 'nobody', 'node'])"],
  ],
  ordinary: [['ok.ts', "// the peer's host is gone; supervisor: true; `sudo` a no-op\nconst user = 'x'; sudoku(); result = 1;"]],
};
