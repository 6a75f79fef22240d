import { Registry } from 'prom-client';
import type { FeatureMetric, FeatureMetricsSource } from '../core/feature-metrics';
import { FeatureMetricsExporter } from './feature-metrics.exporter';

const source = (...metrics: FeatureMetric[]): FeatureMetricsSource => ({ metrics: () => metrics });

function exporter() {
  const registry = new Registry();
  const warnings: string[] = [];
  const e = new FeatureMetricsExporter(registry, 'nrk_', { warn: (m: unknown) => warnings.push(String(m)) });
  return { e, registry, warnings };
}

describe('FeatureMetricsExporter', () => {
  it('exports counters and gauges with their labels, read at scrape time', async () => {
    const { e, registry } = exporter();
    let done = 1;
    e.add(
      source(
        { name: 'x_done_total', help: 'done', type: 'counter', collect: () => done },
        {
          name: 'x_lag',
          help: 'lag',
          type: 'gauge',
          labelNames: ['stream'],
          collect: async () => [{ labels: { stream: 'a"b' }, value: 2 }],
        },
      ),
      'X',
    );
    done = 5;
    const text = await registry.metrics();
    expect(text).toContain('# HELP nrk_x_done_total done\n# TYPE nrk_x_done_total counter\nnrk_x_done_total 5');
    expect(text).toContain('nrk_x_lag{stream="a\\"b"} 2');
  });

  it('adds up counters of equal labels from two sources; the last gauge sample wins', async () => {
    const { e, registry, warnings } = exporter();
    for (const n of [2, 3]) {
      e.add(
        source(
          { name: 'x_total', help: 'h', type: 'counter', collect: () => n },
          { name: 'x_now', help: 'h', type: 'gauge', collect: () => n * 10 },
        ),
        `X${n}`,
      );
    }
    const text = await registry.metrics();
    expect(text).toMatch(/^nrk_x_total 5$/m);
    expect(text).toMatch(/^nrk_x_now 30$/m);
    expect(warnings).toEqual([]);
  });

  it('leaves out a source that gives a known name with another type or labels, with a warning', async () => {
    const { e, registry, warnings } = exporter();
    e.add(source({ name: 'x_total', help: 'h', type: 'counter', collect: () => 1 }), 'First');
    e.add(source({ name: 'x_total', help: 'h', type: 'gauge', collect: () => 7 }), 'Second');
    e.add(source({ name: 'x_total', help: 'h', type: 'counter', labelNames: ['a'], collect: () => 7 }), 'Third');
    expect(await registry.metrics()).toMatch(/^nrk_x_total 1$/m);
    expect(warnings).toEqual([
      'metric x_total of Second left out: First already gives it with another type or labels',
      'metric x_total of Third left out: First already gives it with another type or labels',
    ]);
  });

  it('shows no sample (not 0) when a reader fails or gives nothing, logs it, and goes on', async () => {
    const { e, registry, warnings } = exporter();
    e.add(
      source(
        { name: 'x_broken', help: 'h', type: 'gauge', collect: () => Promise.reject(new Error('no Redis')) },
        { name: 'x_unknown', help: 'h', type: 'gauge', collect: () => undefined },
        { name: 'x_nan', help: 'h', type: 'gauge', collect: () => NaN },
        { name: 'x_fine', help: 'h', type: 'gauge', collect: () => 4 },
      ),
      'X',
    );
    const text = await registry.metrics();
    expect(text).toContain('# TYPE nrk_x_broken gauge');
    expect(text).not.toMatch(/^nrk_x_(broken|unknown|nan) /m);
    expect(text).toMatch(/^nrk_x_fine 4$/m);
    expect(warnings).toEqual(['metric x_broken: no Redis']);
  });

  it('refuses invalid metric and label names, and a name registered elsewhere, naming the source', () => {
    const { e, registry } = exporter();
    expect(() => e.add(source({ name: 'bad-name', help: 'h', type: 'gauge', collect: () => 1 }), 'Mine')).toThrow(
      'MetricsModule: metric bad-name of Mine: not a valid Prometheus metric name',
    );
    expect(() =>
      e.add(source({ name: 'x', help: 'h', type: 'gauge', labelNames: ['__x'], collect: () => 1 }), 'Mine'),
    ).toThrow(/"__x" is not a valid label name/);
    registry.registerMetric({ name: 'nrk_taken', help: 'h', get: () => undefined } as never);
    expect(() => e.add(source({ name: 'taken', help: 'h', type: 'gauge', collect: () => 1 }), 'Mine')).toThrow(
      /metric taken of Mine: .*already been registered/,
    );
  });
});
