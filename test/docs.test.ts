/**
 * Every fenced code block of README.md and docs/*.md is run, so the docs
 * cannot rot silently. A block is skipped only when the line right before its
 * fence is `<!-- not-runnable: REASON -->` with a non-empty reason; every
 * other block must be in a language the runner knows and must exit 0 on its
 * own within BLOCK_TIMEOUT_MS.
 *
 * - js / javascript / cjs: CommonJS, wrapped in an async function (so
 *   top-level `await` works as in an ES module);
 * - mjs: an ES module;
 * - ts / typescript: transpiled to CommonJS with TypeScript, then as js;
 * - sh / bash / shell: bash -euo pipefail, with `npx X` running X from the
 *   checkout's node_modules/.bin (never the registry) and `sudo` a no-op (we
 *   are root in CI).
 *
 * Blocks run in a temporary directory whose node_modules holds `tcp-vitals`
 * (a symlink to this checkout) and links to the checkout's dependencies, so
 * `require('tcp-vitals')` and `import ... from 'tcp-vitals'` resolve here.
 * Each block runs in its own process group, killed on timeout and after the
 * suite.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const BLOCK_TIMEOUT_MS = 30_000;
const MARKER = /^<!--\s*not-runnable:(.*?)-->\s*$/;

export interface CodeBlock { file: string; line: number; lang: string; code: string; skipReason: string | null; badMarker: boolean }

/** The fenced blocks of a markdown text, with the not-runnable marker of the line before each fence. */
export function extractBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const t = lines[j].trim();
      if (t.startsWith(fence[0].repeat(fence.length)) && t.replace(new RegExp(`^\\${fence[0]}+`), '').trim() === '') break;
      body.push(lines[j].slice(Math.min(open[1].length, lines[j].length - lines[j].trimStart().length)));
    }
    const prev = i > 0 ? lines[i - 1].trim() : '';
    const m = MARKER.exec(prev);
    const reason = m ? m[1].trim() : null;
    blocks.push({ file, line: i + 1, lang: open[3].toLowerCase(), code: body.join('\n'), skipReason: reason || null, badMarker: m !== null && !reason });
    i = j;
  }
  return blocks;
}

const JS = new Set(['js', 'javascript', 'cjs']);
const TS = new Set(['ts', 'typescript']);
const SH = new Set(['sh', 'bash', 'shell']);

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f));
  return ['README.md', ...docs];
}

/** A temp dir whose node_modules resolves tcp-vitals to this checkout and everything else to its node_modules. */
function makeSandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcp-vitals-docs-'));
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '.bin'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry === '.bin' || entry === 'tcp-vitals' || entry.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(nm, entry));
  }
  for (const bin of readdirSync(join(ROOT, 'node_modules', '.bin'))) symlinkSync(join(ROOT, 'node_modules', '.bin', bin), join(nm, '.bin', bin));
  symlinkSync(ROOT, join(nm, 'tcp-vitals'), 'dir');
  // The package's bin, as npm would link it (dist/ from tsc is not executable).
  writeFileSync(join(nm, '.bin', 'tcp-vitals'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'dist', 'cli', 'index.js')}" "$@"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-sandbox', private: true }));
  writeFileSync(join(dir, 'guard.js'), GUARD);
  // The repository's examples, as the docs refer to them (`require('./examples/...')`).
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'), 'dir');
  return dir;
}

/**
 * Loaded into every js/ts block (--require): a block may only reach loopback.
 * A block that names another host would otherwise "pass" by handling its own
 * ENOTFOUND; here it exits 97 with a message instead.
 */
const GUARD = `'use strict';
const net = require('node:net');
const dns = require('node:dns');
const loopback = (h) => h === undefined || h === null || h === '' || h === 'localhost' || /^127\\./.test(h) || h === '::1' || h === '0.0.0.0' || h === '::';
const refuse = (h) => { process.stderr.write('docs block tried to reach ' + h + ': docs blocks may only use loopback\\n'); process.exit(97); };
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) { if (!loopback(host)) refuse(host); return lookup.call(this, host, ...rest); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const a = Array.isArray(args[0]) ? args[0][0] : args[0];
  const host = a !== null && typeof a === 'object' ? a.host : typeof args[1] === 'string' ? args[1] : undefined;
  if (!(a !== null && typeof a === 'object' && a.path) && !loopback(host)) refuse(host);
  return connect.apply(this, args);
};
`;

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    running.add(child);
    let output = '';
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killGroup(child); }, BLOCK_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup(child); // anything the block left running in its group
      running.delete(child);
      resolve({ code, output, timedOut });
    });
  });
}

const SH_PRELUDE = 'npx() { "$@"; }\nsudo() { "$@"; }\nexport PATH="$PWD/node_modules/.bin:$PATH"\n';

function prepare(block: CodeBlock, dir: string, index: number): [string, string[]] {
  const base = join(dir, `block-${index}`);
  if (SH.has(block.lang)) {
    writeFileSync(`${base}.sh`, SH_PRELUDE + block.code + '\n');
    return ['bash', ['-euo', 'pipefail', `${base}.sh`]];
  }
  if (block.lang === 'mjs') {
    writeFileSync(`${base}.mjs`, block.code + '\n');
    return [process.execPath, ['--require', join(dir, 'guard.js'), `${base}.mjs`]];
  }
  let js = block.code;
  if (TS.has(block.lang)) {
    js = ts.transpileModule(block.code, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: `${base}.ts`,
    }).outputText;
  }
  const wrapped = `(async () => {\n${js}\n})().catch((err) => { console.error(err); process.exitCode = 1; });\n`;
  writeFileSync(`${base}.js`, wrapped);
  return [process.execPath, ['--require', join(dir, 'guard.js'), `${base}.js`]];
}

const blocks = docFiles().flatMap((f) => extractBlocks(f, readFileSync(join(ROOT, f), 'utf8')));

describe('docs: every code block runs or says why not', () => {
  let dir = '';
  beforeAll(() => { dir = makeSandbox(); });
  afterAll(() => {
    for (const c of running) killGroup(c);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  test('the extractor finds blocks and markers', () => {
    const sample = ['text', '<!-- not-runnable: sample output -->', '```', 'out', '```', '', '```js', 'x()', '```', '<!-- not-runnable: -->', '```sh', 'y', '```'].join('\n');
    const found = extractBlocks('x.md', sample);
    expect(found.map((b) => [b.line, b.lang, b.code, b.skipReason, b.badMarker])).toEqual([
      [3, '', 'out', 'sample output', false], [7, 'js', 'x()', null, false], [11, 'sh', 'y', null, true],
    ]);
    expect(blocks.length).toBeGreaterThan(10);
  });

  test('every not-runnable marker has a reason (listed here)', () => {
    const skipped = blocks.filter((b) => b.skipReason !== null || b.badMarker);
     
    console.log(`docs blocks not run (${skipped.length} of ${blocks.length}):\n${skipped.map((b) => `  ${b.file}:${b.line} ${b.lang || '(no language)'}: ${b.skipReason ?? '(EMPTY REASON)'}`).join('\n')}`);
    expect(blocks.filter((b) => b.badMarker).map((b) => `${b.file}:${b.line}`)).toEqual([]);
  });

  const runnable = blocks.filter((b) => b.skipReason === null && !b.badMarker);
  test.each(runnable.map((b, i) => [`${b.file}:${b.line} (${b.lang || 'no language'})`, b, i] as const))('%s', async (_name, block, index) => {
    if (!JS.has(block.lang) && !TS.has(block.lang) && !SH.has(block.lang) && block.lang !== 'mjs') {
      throw new Error(`${block.file}:${block.line}: a '${block.lang || '(no language)'}' block cannot be run; mark it with <!-- not-runnable: REASON --> on the line before the fence`);
    }
    const [cmd, args] = prepare(block, dir, index);
    const r = await run(cmd, args, dir);
    if (r.timedOut) throw new Error(`${block.file}:${block.line} did not exit within ${BLOCK_TIMEOUT_MS} ms (close its sockets/servers). Output:\n${r.output}`);
    if (r.code !== 0) throw new Error(`${block.file}:${block.line} exited with ${r.code}. Output:\n${r.output}`);
     
    if (process.env.DOCS_VERBOSE) console.log(`${block.file}:${block.line}\n${r.output}`);
  }, BLOCK_TIMEOUT_MS + 10_000);
});
