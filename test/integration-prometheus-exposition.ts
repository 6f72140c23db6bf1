/** A small parser of the Prometheus text exposition format, for the collector tests. */

export interface ExpositionSample { name: string; labels: Record<string, string>; value: number }
export interface Exposition { types: Map<string, string>; samples: ExpositionSample[] }

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses text exposition; throws on a line it does not understand. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const out: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      continue;
    }
    const m = LINE.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return { types, samples: out };
}

/** Every sample of `name`. */
export function samples(e: Exposition, name: string): ExpositionSample[] {
  return e.samples.filter((s) => s.name === name);
}

/** The one sample of `name` whose labels are exactly `labels`; throws if there is none. */
export function sample(e: Exposition, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).sort().join('|');
  const found = e.samples.filter((s) => s.name === name && Object.entries(s.labels).sort().join('|') === want);
  if (found.length !== 1) {
    throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length} among:\n${samples(e, name).map((s) => JSON.stringify(s)).join('\n')}`);
  }
  return found[0].value;
}
