/**
 * The layering of lib/ (docs/ARCHITECTURE.md), checked on the sources:
 * imports point down only (common → kernel → model → runtime → readings →
 * policy → integrations → cli), the model has no native import (type-only
 * imports from kernel/), only kernel/binding.ts loads the addon and only lib/kernel imports
 * it (value or type), no layer has
 * a barrel index.ts (model/index.ts is the `tcp-vitals/model` entry point,
 * cli/index.ts the command), and no comment points outside the repository.
 * The checker itself is tested on synthetic sources so that it cannot pass by
 * finding nothing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { RUN_AS_EXAMPLES, runsAsAnotherUser } from './helpers/run-as-check';

const root = join(__dirname, '..');
const lib = join(root, 'lib');
export const LAYERS = ['common', 'kernel', 'model', 'runtime', 'readings', 'policy', 'integrations', 'cli'] as const;

/** The only index.ts files below lib/: entry points, not barrels. */
const ENTRY_INDEXES = ['model/index.ts', 'cli/index.ts'];

interface Import { spec: string; typeOnly: boolean; line: number }

/** Every module specifier of a TS source: import/export ... from, import(), require(). */
function importsOf(source: string): Import[] {
  const out: Import[] = [];
  const lineAt = (i: number) => source.slice(0, i).split('\n').length;
  const fromRe = /^[ \t]*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (let m = fromRe.exec(source); m; m = fromRe.exec(source)) out.push({ spec: m[3], typeOnly: !!m[2], line: lineAt(m.index) });
  const callRe = /\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = callRe.exec(source); m; m = callRe.exec(source)) out.push({ spec: m[1], typeOnly: false, line: lineAt(m.index) });
  const eqRe = /^[ \t]*import\s+\w+\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (let m = eqRe.exec(source); m; m = eqRe.exec(source)) out.push({ spec: m[1], typeOnly: false, line: lineAt(m.index) });
  return out;
}

const layerOf = (file: string): string | null => (file.includes('/') ? file.split('/')[0] : null);

/** Rule violations of `files` (paths relative to lib/ → source). */
export function violations(files: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    for (const imp of importsOf(source)) {
      const at = `lib/${file}:${imp.line} imports '${imp.spec}'`;
      if (imp.spec === 'node-gyp-build' || /\.node['"]?$/.test(imp.spec)) {
        if (file !== 'kernel/binding.ts') bad.push(`${at}: only kernel/binding.ts loads the addon`);
        continue;
      }
      if (!imp.spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), imp.spec));
      if (target.startsWith('..')) { bad.push(`${at}: outside lib/`); continue; }
      const to = layerOf(target);
      if (from === null) continue; // lib/index.ts: the public API, may re-export any layer
      if (to === null) { bad.push(`${at}: only lib/index.ts may import the package index`); continue; }
      if (!(LAYERS as readonly string[]).includes(from) || !(LAYERS as readonly string[]).includes(to)) {
        bad.push(`${at}: unknown layer`);
        continue;
      }
      if (LAYERS.indexOf(to as (typeof LAYERS)[number]) > LAYERS.indexOf(from as (typeof LAYERS)[number])) {
        bad.push(`${at}: ${from} may not import ${to} (imports point down only)`);
      }
      if (from === 'model' && to === 'kernel' && !imp.typeOnly) bad.push(`${at}: the model imports only types from kernel/`);
      if (target === join('kernel', 'binding') && from !== 'kernel') bad.push(`${at}: only lib/kernel imports the binding (use its functions, e.g. kernel/batch)`);
    }
  }
  return bad;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const sources = new Map(walk(lib).filter((f) => f.endsWith('.ts')).map((f) => [relative(lib, f), readFileSync(f, 'utf8')]));

describe('the checker', () => {
  test('flags an upward import, a native import in the model, the addon loaded elsewhere, and a path out of lib/', () => {
    const v = violations(new Map([
      ['kernel/fd.ts', "import { scheduler } from '../runtime/scheduler';"],
      ['model/compute.ts', "import type { TcpInfo } from '../kernel/tcpinfo';\nimport { tcpInfo } from '../kernel/tcpinfo';"],
      ['policy/watch.ts', "const b = require('node-gyp-build');\nimport { x } from '../../test/helpers/netns';"],
      ['common/errors.ts', "export { a } from '../policy/close';"],
      ['runtime/scheduler.ts', "import { native } from '../kernel/binding';\nimport type { Watcher } from '../policy/watch';"],
      ['policy/protect/detector.ts', "import { native } from '../../kernel/binding';\nimport type { NativeBinding } from '../../kernel/binding';"],
      ['kernel/batch.ts', "import { native } from './binding';"],
    ]));
    expect(v).toEqual([
      "lib/kernel/fd.ts:1 imports '../runtime/scheduler': kernel may not import runtime (imports point down only)",
      "lib/model/compute.ts:2 imports '../kernel/tcpinfo': the model imports only types from kernel/",
      "lib/policy/watch.ts:2 imports '../../test/helpers/netns': outside lib/",
      "lib/policy/watch.ts:1 imports 'node-gyp-build': only kernel/binding.ts loads the addon",
      "lib/common/errors.ts:1 imports '../policy/close': common may not import policy (imports point down only)",
      "lib/runtime/scheduler.ts:1 imports '../kernel/binding': only lib/kernel imports the binding (use its functions, e.g. kernel/batch)",
      "lib/runtime/scheduler.ts:2 imports '../policy/watch': runtime may not import policy (imports point down only)",
      "lib/policy/protect/detector.ts:1 imports '../../kernel/binding': only lib/kernel imports the binding (use its functions, e.g. kernel/batch)",
      "lib/policy/protect/detector.ts:2 imports '../../kernel/binding': only lib/kernel imports the binding (use its functions, e.g. kernel/batch)",
    ]);
  });
});

describe('lib/', () => {
  test('imports point down only; the model has no native import; only kernel/binding.ts loads the addon; only lib/kernel imports it', () => {
    expect(sources.size).toBeGreaterThan(30);
    expect(violations(sources)).toEqual([]);
  });

  test('every layer is a folder without a barrel index.ts, and no facade file sits beside a folder of its name', () => {
    const indexes = [...sources.keys()].filter((f) => f.split('/').length === 2 && f.endsWith('/index.ts')).sort();
    expect(indexes).toEqual([...ENTRY_INDEXES].sort());
    const top = readdirSync(lib);
    const facades = top.filter((n) => n.endsWith('.ts') && top.includes(n.replace(/\.ts$/, '')));
    expect(facades).toEqual([]);
    const folders = top.filter((n) => statSync(join(lib, n)).isDirectory());
    expect(folders.sort()).toEqual([...LAYERS].sort());
  });
});

describe('running as another user', () => {
  test('the checker flags each way of running as another user, and passes ordinary code', () => {
    const flagged = runsAsAnotherUser(new Map(RUN_AS_EXAMPLES.flagged));
    expect(flagged.map((l) => l.split(':')[0])).toEqual(RUN_AS_EXAMPLES.flagged.map(([file]) => file));
    expect(runsAsAnotherUser(new Map(RUN_AS_EXAMPLES.ordinary))).toEqual([]);
  });

  test('no test or fixture runs anything as another user except through test/helpers/as-user.ts', () => {
    const testDir = join(root, 'test');
    const allowed = new Set([join('helpers', 'as-user.ts'), join('helpers', 'run-as-check.ts')]);
    const files = new Map(walk(testDir)
      .filter((f) => /\.(ts|js|py|sh|c)$/.test(f) && !allowed.has(relative(testDir, f)))
      .map((f) => [relative(root, f), readFileSync(f, 'utf8')]));
    expect(runsAsAnotherUser(files)).toEqual([]);
  });
});

test('no comment or doc points outside the repository (such as a shared/ folder beside the clone)', () => {
  const roots = ['lib', 'test', 'bench', 'scripts', 'src-native', 'docs', '.ci'].map((d) => join(root, d));
  const files = [...roots.flatMap((d) => walk(d)), join(root, 'README.md'), join(root, 'binding.gyp')]
    .filter((f) => /\.(ts|js|cc|h|md|sh|gyp)$|\/run$/.test(f) && !f.includes('node_modules') && !f.includes('/results/'));
  const outside: string[] = [];
  for (const f of files) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (/\.\.\/shared\/|\/work\/shared/.test(line)) outside.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(outside).toEqual([]);
});
