/** spectra takes the init object score takes ({ scheme, ... }), resolved for the recipe's shape. */
import { spectraSync } from '../../../src/native';
import { resolveInit } from '../../../src/weights/init';
import type { InitScheme } from '../../../src/arch/types';

describe('spectra recipes take init schemes', () => {
  it.each<InitScheme>([
    { scheme: 'normal', std: 0.02 },
    { scheme: 'uniform', bound: 0.1 },
    { scheme: 'xavier-normal' },
    { scheme: 'xavier-uniform', gain: 2 },
    { scheme: 'kaiming-normal', mode: 'fan-out' },
  ])('%j gives the spectrum of the distribution it resolves to', (init) => {
    const [rows, cols] = [48, 80];
    const fromScheme = spectraSync([{ rows, cols, init, seed: 3, stream: 9, route: 'full' }])[0];
    const fromDistribution = spectraSync([{ rows, cols, init: resolveInit(init, rows, cols), seed: 3, stream: 9, route: 'full' }])[0];
    expect(Array.from(fromScheme.singularValues ?? [])).toEqual(Array.from(fromDistribution.singularValues ?? []));
    expect(fromScheme.sumSquares).toBe(fromDistribution.sumSquares);
  });

  it('a bad scheme is an E_ARGUMENT or E_NON_FINITE naming the job', () => {
    expect(() => spectraSync([{ rows: 4, cols: 4, init: { scheme: 'xavier-normal', gain: -1 }, seed: 0, stream: 0 }])).toThrow(/jobs\[0\]\.init\.gain/);
    expect(() => spectraSync([{ rows: 4, cols: 4, init: { scheme: 'sideways' } as never, seed: 0, stream: 0 }])).toThrow(/jobs\[0\]\.init/);
  });
});
