/**
 * The front door (issue 17 item 3), checked on an installed copy of the
 * package: `Object.keys(require('tcp-vitals'))` is the documented surface
 * (at most 45 names, listed here so that any change is a decision); the names
 * that moved to `tcp-vitals/model` in 0.2.0 still work from the root (CJS
 * require, ESM named import, TypeScript named import marked @deprecated) but
 * are not enumerable; `tcp-vitals/model` loads and computes where the addon
 * is absent, without loading kernel/binding.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';

const root = join(__dirname, '..');

/** The root's enumerable runtime names, in lib/index.ts order. */
const SURFACE = [
  'failFast', 'protect', 'misconfigurationAlarms', 'alarmsRaised', 'ALARM_CODES', 'failFastAgent', 'FailFastAgent', 'FailFastHttpsAgent', 'failFastConnector',
  'PeerGoneError', 'AckAbortError', 'isPeerGoneError', 'isAckAbortError',
  'watch', 'WATCH_EVENTS', 'listenQueue', 'listenCounters', 'watchServer', 'SERVER_EVENTS', 'requestVitals',
  'tcpInfo', 'decodeTcpInfo', 'TCP_STATES', 'TCPI_OPT', 'CA_STATES', 'queues', 'socketCookie',
  'snapshot', 'SNAPSHOT_METRICS', 'diagnose', 'deadlines', 'explain', 'kernelSettings',
  'delivery', 'acked', 'retain', 'retention', 'retainedUnacknowledged', 'gracefulClose', 'reset',
  'setOptions', 'getOptions', 'constants', 'getsockopt', 'setsockopt',
];

/** Root names of 0.1.0 that moved to tcp-vitals/model: deprecated at the root, same object. */
const MOVED_TO_MODEL = [
  'computeDeadlines', 'predictGiveUp', 'explainSettings', 'explainDeadlines', 'retriesBudgetMs', 'deathAfterFirstRetransmit',
  'keepAliveDeath', 'connectDeath', 'formatDuration', 'diagnoseReading', 'VERDICTS', 'failFastOptions',
  'FAIL_FAST_MIN_TIMEOUT_MS', 'FAIL_FAST_MAX_TIMEOUT_MS', 'snapshotOf',
];
/** Deprecated root names with no new home (TCP_STATES.indexOf(name); the defaults are documented on their options). */
const NO_NEW_HOME = ['DEFAULT_MAX_RETAINED_BYTES', 'DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS', 'TCP_STATE'];
/** Every deprecated root name. */
const DEPRECATED = [...MOVED_TO_MODEL, ...NO_NEW_HOME];
/** Deprecated type-only root names (moved to tcp-vitals/model). */
const DEPRECATED_TYPES = ['DeadlineInput', 'DeadlineOptions', 'DeadlineSettings', 'SettingsScenario', 'DiagnoseInfo'];

/** A temp dir with node_modules/tcp-vitals (package.json, dist/, prebuilds/ if asked) and node-gyp-build. */
function installedCopy(prefix: string, withAddon: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pkg = join(dir, 'node_modules', 'tcp-vitals');
  for (const f of withAddon ? ['package.json', 'dist', 'prebuilds'] : ['package.json', 'dist']) {
    cpSync(join(root, f), join(pkg, f), { recursive: true });
  }
  cpSync(join(root, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  return dir;
}

const runIn = (dir: string, file: string, source: string): Record<string, unknown> => {
  writeFileSync(join(dir, file), source);
  return JSON.parse(execFileSync(process.execPath, [join(dir, file)], { cwd: dir, encoding: 'utf8', timeout: 30_000 }));
};

describe('installed with the addon', () => {
  let dir = '';
  beforeAll(() => {
    dir = installedCopy('tv-surface-', true);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`Object.keys(require('tcp-vitals')) is the documented surface: ${SURFACE.length} names, at most 45`, () => {
    const out = runIn(dir, 'keys.cjs', `process.stdout.write(JSON.stringify(Object.keys(require('tcp-vitals'))));`);
    expect(out).toEqual(SURFACE);
    expect(SURFACE.length).toBeLessThanOrEqual(45);
    expect(new Set(SURFACE).size).toBe(SURFACE.length);
  });

  test('CommonJS: every deprecated root name still works, is the model\'s own object, and is not enumerable', () => {
    const out = runIn(dir, 'deprecated.cjs', `
      const tv = require('tcp-vitals');
      const model = require('tcp-vitals/model');
      const names = ${JSON.stringify(DEPRECATED)};
      const out = {};
      for (const n of names) {
        out[n] = { present: n in tv, enumerable: Object.prototype.propertyIsEnumerable.call(tv, n),
          same: model[n] === undefined ? null : tv[n] === model[n], defined: tv[n] !== undefined };
      }
      out.calls = {
        budget: tv.retriesBudgetMs(15, 200), format: tv.formatDuration(938000), close: tv.TCP_STATE.CLOSE,
        closeByName: tv.TCP_STATES.indexOf('CLOSE'), ff: tv.failFastOptions(10000).userTimeout,
        verdict: tv.diagnoseReading({ state: 'CLOSE' }, { sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 }).verdict,
        retained: tv.DEFAULT_MAX_RETAINED_BYTES, closeTimeout: tv.DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS,
        snapshotOfSame: tv.snapshotOf === model.snapshotOf, metricsSame: tv.SNAPSHOT_METRICS === model.SNAPSHOT_METRICS,
      };
      process.stdout.write(JSON.stringify(out));`);
    for (const n of DEPRECATED) {
      expect({ n, ...(out[n] as object) }).toEqual({ n, present: true, enumerable: false, same: NO_NEW_HOME.includes(n) ? null : true, defined: true });
    }
    expect(out.calls).toEqual({
      budget: 924600, format: '15.6 min', close: 7, closeByName: 7, ff: expect.any(Number), verdict: 'closed',
      retained: 16 * 1024 * 1024, closeTimeout: 30_000, snapshotOfSame: true, metricsSame: true,
    });
  });

  test('ES modules: every deprecated root name is still a named import (found by Node\'s scan of the CommonJS file)', () => {
    const out = runIn(dir, 'deprecated.mjs', `
      import { ${DEPRECATED.join(', ')} } from 'tcp-vitals';
      import * as model from 'tcp-vitals/model';
      import { retriesBudgetMs as fromModel } from 'tcp-vitals/model';
      const got = { ${DEPRECATED.join(', ')} };
      const out = { missing: [], different: [] };
      for (const [n, v] of Object.entries(got)) {
        if (v === undefined) out.missing.push(n);
        else if (model[n] !== undefined && v !== model[n]) out.different.push(n);
      }
      out.budget = fromModel(15, 200);
      process.stdout.write(JSON.stringify(out));`);
    expect(out).toEqual({ missing: [], different: [], budget: 924600 });
  });

  test('TypeScript: deprecated names import from the root and carry @deprecated; the surface does not; tcp-vitals/model resolves (node16 and node10)', () => {
    const source = `
      import { ${[...DEPRECATED, ...SURFACE].join(', ')} } from 'tcp-vitals';
      import type { ${DEPRECATED_TYPES.join(', ')} } from 'tcp-vitals';
      import { retriesBudgetMs as m, computeDeadlines as c, type DeadlineInput as I } from 'tcp-vitals/model';
      const i: I | DeadlineInput | undefined = undefined;
      export const used = [${[...DEPRECATED, ...SURFACE].join(', ')}, m, c, i];
      export type T = [${DEPRECATED_TYPES.join(', ')}];
    `;
    for (const [file, resolution] of [['consumer.mts', ts.ModuleResolutionKind.Node16], ['consumer.ts', ts.ModuleResolutionKind.Node10]] as const) {
      writeFileSync(join(dir, file), source);
      const program = ts.createProgram([join(dir, file)], {
        module: resolution === ts.ModuleResolutionKind.Node16 ? ts.ModuleKind.Node16 : ts.ModuleKind.CommonJS,
        moduleResolution: resolution, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
      });
      const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect({ file, errors }).toEqual({ file, errors: [] });
      const checker = program.getTypeChecker();
      const rootFile = program.getSourceFiles().find((f) => f.fileName.endsWith('/node_modules/tcp-vitals/dist/index.d.ts'));
      expect(rootFile).toBeDefined();
      const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(rootFile as ts.SourceFile) as ts.Symbol);
      const deprecated = exported.filter((s) => s.getJsDocTags(checker).some((t) => t.name === 'deprecated')).map((s) => s.name);
      expect({ file, deprecated: deprecated.sort() }).toEqual({ file, deprecated: [...DEPRECATED, ...DEPRECATED_TYPES].sort() });
    }
  });
});

describe('installed without the addon (no prebuilds/, no build/)', () => {
  let dir = '';
  beforeAll(() => {
    dir = installedCopy('tv-surface-no-addon-', false);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('tcp-vitals/model loads and computes without loading kernel/binding; the root cannot load', () => {
    const out = runIn(dir, 'model.cjs', `
      const model = require('tcp-vitals/model');
      const out = {
        budget: model.retriesBudgetMs(15, 200), format: model.formatDuration(938000),
        ff: model.failFastOptions(10000).keepAliveCount, verdicts: model.VERDICTS.length,
        binding: Object.keys(require.cache).filter((f) => /binding|node-gyp-build|\\.node$/.test(f)),
      };
      try { require('tcp-vitals'); } catch (err) { out.root = err.code; }
      process.stdout.write(JSON.stringify(out));`);
    expect(out).toEqual({ budget: 924600, format: '15.6 min', ff: expect.any(Number), verdicts: 6, binding: [], root: 'ERR_TCP_VITALS_NO_ADDON' });
  });

  test('tcp-vitals/model as an ES module import: named imports are the CommonJS objects', () => {
    const out = runIn(dir, 'model.mjs', `
      import { createRequire } from 'node:module';
      import { computeDeadlines, explainDeadlines, retriesBudgetMs } from 'tcp-vitals/model';
      const cjs = createRequire(import.meta.url)('tcp-vitals/model');
      const settings = { retries2: 15, synRetries: 6, synLinearTimeouts: 0, keepAliveTimeMs: 7200000, keepAliveIntervalMs: 75000,
        keepAliveProbes: 9, rtoMinMs: 200, rtoMaxMs: 120000 };
      const d = computeDeadlines({ settings, options: { userTimeout: 0, keepAlive: false } });
      process.stdout.write(JSON.stringify({
        same: computeDeadlines === cjs.computeDeadlines && retriesBudgetMs === cjs.retriesBudgetMs,
        sendingAtLeastBudget: d.whileSending >= retriesBudgetMs(15, 200), idleNever: d.whileIdle === Infinity,
        lines: explainDeadlines(d).length > 0,
      }));`);
    expect(out).toEqual({ same: true, sendingAtLeastBudget: true, idleNever: true, lines: true });
  });
});
