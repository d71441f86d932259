import { buildPlan } from '../../../src/arch';
import { expectConsistent, expectError } from './helpers';

const attentionBlock = [
  { name: 'q', rows: 64, cols: 64, heads: 4, headAxis: 'rows', bias: true },
  { rows: 64, cols: 64, heads: 4, headAxis: 'cols' },
];
const ffnBlock = [{ rows: 256, cols: 64, bias: true, init: { scheme: 'uniform', bound: 0.05 } }, { rows: 64, cols: 256 }];

describe('modules: the generic escape hatch', () => {
  test('counts matrices, biases, otherParams and extras; names and inits default sensibly', () => {
    const plan = buildPlan({
      format: 'modules',
      id: 'toy',
      layers: [
        { attention: attentionBlock, ffn: ffnBlock, otherParams: 256 },
        { attention: [], ffn: [{ rows: 32, cols: 64 }] },
      ],
      extras: [{ name: 'embed', rows: 1000, cols: 64 }],
    });
    expect(plan.family).toBe('modules');
    expect(plan.id).toBe('toy');
    expect(plan.hiddenSize).toBe(64); // cols of the first matrix
    expect(plan.layers[0].attention.map((m) => [m.name, m.heads, m.headAxis])).toEqual([
      ['q', 4, 'rows'],
      ['layers.0.attention.1', 4, 'cols'],
    ]);
    expect(plan.layers[0].ffn[0].init).toEqual({ scheme: 'uniform', bound: 0.05 });
    expect(plan.layers[0].ffn[1].init).toEqual({ scheme: 'normal', std: 0.02 });
    expect(plan.layers.map((l) => l.params)).toEqual([
      { attention: 64 * 64 + 64 + 64 * 64, ffn: 256 * 64 + 256 + 64 * 256, other: 256 },
      { attention: 0, ffn: 32 * 64, other: 0 },
    ]);
    expect(plan.params.embedding).toBe(64000);
    expectConsistent(plan);
  });

  test('an init option replaces the default but not a matrix\'s own init', () => {
    const plan = buildPlan({ format: 'modules', hiddenSize: 64, layers: [{ attention: attentionBlock, ffn: ffnBlock }] }, { init: { scheme: 'kaiming-normal', mode: 'fan-out' } });
    expect(plan.layers[0].attention[0].init).toEqual({ scheme: 'kaiming-normal', mode: 'fan-out' });
    expect(plan.layers[0].ffn[0].init).toEqual({ scheme: 'uniform', bound: 0.05 });
  });

  test('errors name the field', () => {
    const layers = (matrix: Record<string, unknown>): unknown => ({ format: 'modules', layers: [{ attention: [matrix], ffn: [] }] });
    let e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, heads: 4 })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].headAxis');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, headAxis: 'rows' })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].heads');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, heads: 5, headAxis: 'rows' })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].heads');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, heads: 4, headAxis: 'diagonal' })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].headAxis');
    e = expectError(() => buildPlan(layers({ rows: 0, cols: 64 })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].rows');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 2 ** 20 + 1 })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].cols');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, bias: 1 })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].bias');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, init: { scheme: 'orthogonal' } })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].init.scheme');
    e = expectError(() => buildPlan(layers({ rows: 64, cols: 64, init: { scheme: 'normal', std: 0 } })), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention[0].init.std');
    e = expectError(() => buildPlan({ format: 'modules', layers: [{ attention: [{ name: 'x', rows: 1, cols: 1 }], ffn: [{ name: 'x', rows: 1, cols: 1 }] }] }), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].ffn[0].name');
    e = expectError(() => buildPlan({ format: 'modules', layers: [{ attention: [], ffn: [], otherParams: -1 }] }), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].otherParams');
    e = expectError(() => buildPlan({ format: 'modules', layers: [{ attention: [], ffn: [] }] }), 'E_FORMAT');
    expect(e.location?.field).toBe('hiddenSize');
    e = expectError(() => buildPlan({ format: 'modules', layers: [{ ffn: [] }] }), 'E_FORMAT');
    expect(e.location?.field).toBe('layers[0].attention');
    e = expectError(() => buildPlan({ format: 'modules', layers: [] }), 'E_FORMAT');
    expect(e.location?.field).toBe('layers');
  });

  test('a parameter count beyond 2^53 is refused rather than rounded', () => {
    const input = { format: 'modules', layers: [{ attention: [{ rows: 1, cols: 1 }], ffn: [], otherParams: Number.MAX_SAFE_INTEGER }] };
    const e = expectError(() => buildPlan(input), 'E_FORMAT');
    expect(e.message).toContain('2^53');
  });
});
