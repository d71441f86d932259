import * as fs from 'fs';
import * as path from 'path';
import { buildPlan } from '../../../src/arch';
import { ZeroLMError } from '../../../src/errors';
import { Benchmark, loadBenchmark, loadLtsParamsSummary } from '../../../src/eval/benchmarks';
import { loadPeerScores, PeerScores, snakeCase } from '../../../src/eval/peers';
import { bootstrapCI, kendallTauB, kendallWithinParamBand, spearman } from '../../../src/stats/rank';

const dataDir = path.resolve(__dirname, '../../../data/benchmarks');
const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');

/** [Spearman, Kendall] over all 500 as README's nas-bench-bert table (printed by `zerolm eval`) states them for `proxy`. */
function readmeAll(proxy: string): [number, number] {
  const table = readme.slice(readme.indexOf('<!-- printed by: zerolm eval nas-bench-bert -->'));
  const row = table.split('\n').find((line) => line.startsWith(`| ${proxy} | 0 |`));
  if (row === undefined) throw new Error(`README's nas-bench-bert table has no row for ${proxy}`);
  const cells = row.split('|').map((cell) => cell.trim());
  return [Number(cells[6]), Number(cells[7])];
}

/** Within the rounding of a figure printed with 3 decimals. */
const asPrinted = (value: number, printed: number): void => expect(Math.abs(value - printed)).toBeLessThanOrEqual(0.0005 + 1e-12);

/** Scores and labels aligned by entry id, both oriented so that higher means better. */
function oriented(bench: Benchmark, peer: PeerScores): { score: number[]; quality: number[] } {
  const score = bench.entries.map((e) => {
    const value = peer.scores.get(e.id);
    if (value === undefined) throw new Error(`${peer.name} has no score for ${e.id}`);
    return peer.higherIsBetter ? value : -value;
  });
  const quality = bench.entries.map((e) => (bench.higherIsBetter ? e.label : -e.label));
  return { score, quality };
}

function peer(peers: PeerScores[], name: string): PeerScores {
  const found = peers.find((p) => p.name === name);
  if (!found) throw new Error(`no peer ${name}`);
  return found;
}

describe('loadPeerScores: nas-bench-bert', () => {
  const bench = loadBenchmark('nas-bench-bert');
  const peers = loadPeerScores('nas-bench-bert');

  it('has the 15 metric columns of Serianni & Kalita plus lpzero, each for all 500 ids', () => {
    expect(peers.map((p) => p.name)).toEqual([
      'synaptic_diversity',
      'synaptic_diversity_normalized',
      'synaptic_saliency',
      'synaptic_saliency_normalized',
      'activation_distance',
      'activation_distance_normalized',
      'jacobian_score',
      'jacobian_score_normalized',
      'number_of_parameters',
      'head_importance',
      'head_importance_normalized',
      'head_confidence',
      'head_confidence_normalized',
      'head_softmax_confidence',
      'head_softmax_confidence_normalized',
      'lpzero',
    ]);
    for (const p of peers) {
      expect([...p.scores.keys()]).toEqual(bench.entries.map((e) => e.id));
      expect(p.higherIsBetter).toBe(true);
    }
    expect(peer(peers, 'number_of_parameters').source).toBe('peer-proxy-scores/nas-bench-bert/serianni_kalita_2023.csv#Number of Parameters');
    expect(peer(peers, 'lpzero').source).toBe('peer-proxy-scores/nas-bench-bert/lpzero_2024.csv#lpzero');
    expect(peer(peers, 'number_of_parameters').scores.get('0')).toBe(13330176);
  });

  it('the csv GLUE column matches the benchmark labels, and LPZero repeats Serianni & Kalita\'s columns', () => {
    const read = (file: string): string[][] =>
      fs
        .readFileSync(path.join(dataDir, 'peer-proxy-scores/nas-bench-bert', file), 'utf8')
        .trim()
        .split(/\r?\n/)
        .map((line) => line.split(','));
    const serianni = read('serianni_kalita_2023.csv');
    const lpzero = read('lpzero_2024.csv');
    expect(lpzero[0].slice(0, serianni[0].length)).toEqual(serianni[0]);
    expect(serianni).toHaveLength(501);
    expect(lpzero).toHaveLength(501);
    const labels = new Map(bench.entries.map((e) => [e.id, e.label]));
    const mismatches: string[] = [];
    for (let row = 1; row < serianni.length; row++) {
      if (!(Math.abs(Number(serianni[row][1]) - labels.get(serianni[row][0])!) < 1e-9)) mismatches.push(`GLUE of id ${serianni[row][0]}`);
      for (let column = 0; column < serianni[0].length; column++) {
        const a = Number(serianni[row][column]);
        const b = Number(lpzero[row][column]);
        // Same numbers, LPZero's copy printed with up to 16 significant digits.
        if (!(Math.abs(a - b) <= 1e-14 * Math.max(1, Math.abs(a)))) mismatches.push(`line ${row + 1} column ${serianni[0][column]}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('Number of Parameters vs GLUE: the ranking of the lpzero build\'s own counts, as README states it', () => {
    const { score, quality } = oriented(bench, peer(peers, 'number_of_parameters'));
    const tau = kendallTauB(score, quality);
    const rho = spearman(score, quality);
    // By another route: the PyTorch port's counts are the lpzero build's params.total (tested id by id in
    // test/unit/arch), so ranking the architectures by those gives the same statistics exactly.
    const ours = bench.entries.map((e) => buildPlan(e.architecture, { family: 'nas-bench-bert', build: 'lpzero' }).params.total);
    expect(kendallTauB(ours, quality)).toBe(tau);
    expect(spearman(ours, quality)).toBe(rho);
    const [stated, statedTau] = readmeAll('number_of_parameters');
    asPrinted(rho, stated);
    asPrinted(tau, statedTau);
    // NSC quotes #Params Kendall 0.485 on these 500 architectures: this column does not reproduce it; NSC's count
    // must come from another build of the models.
    expect(Math.abs(tau - 0.485)).toBeGreaterThan(0.01);
  });

  it('LPZero and head confidence vs GLUE: as README states them', () => {
    for (const name of ['lpzero', 'head_confidence']) {
      const { score, quality } = oriented(bench, peer(peers, name));
      const rho = spearman(score, quality);
      const tau = kendallTauB(score, quality);
      const [stated, statedTau] = readmeAll(name);
      asPrinted(rho, stated);
      asPrinted(tau, statedTau);
    }
  });
});

describe('loadPeerScores: lts-txl-wt103', () => {
  const bench = loadBenchmark('lts-txl-wt103');
  const peers = loadPeerScores('lts-txl-wt103');

  it('has no published proxy scores, only decoder_params (Attn + FFN) for all 200 ids', () => {
    expect(peers.map((p) => p.name)).toEqual(['decoder_params']);
    expect(peers[0].source).toBe('lts-txl-wt103/params_summary.yaml#Attn+FFN');
    expect([...peers[0].scores.keys()]).toEqual(bench.entries.map((e) => e.id));
    for (const [id, counts] of loadLtsParamsSummary(undefined, 'lts-txl-wt103')) expect(peers[0].scores.get(id)).toBe(counts.Attn + counts.FFN);
  });

  it('non-embedding parameters rank the models at Spearman 0.974 / Kendall 0.861 (the shared benchmark notes)', () => {
    const counts = loadLtsParamsSummary(undefined, 'lts-txl-wt103');
    const score = bench.entries.map((e) => counts.get(e.id)!.nonembedding);
    const quality = bench.entries.map((e) => -e.label);
    expect(spearman(score, quality)).toBeCloseTo(0.974, 3);
    expect(kendallTauB(score, quality)).toBeCloseTo(0.861, 3);
  });
});

describe('loadPeerScores: lts-gpt2-wt103', () => {
  const bench = loadBenchmark('lts-gpt2-wt103');
  const peers = loadPeerScores('lts-gpt2-wt103');

  it('has the 16 LPZero score files plus decoder_params, each for all 200 ids', () => {
    expect(peers.map((p) => p.name)).toEqual([
      'activation_distance',
      'attention_confidence',
      'eznas',
      'fisher',
      'grad_norm',
      'grasp',
      'head_confidence',
      'head_importance',
      'jacobian_cosine',
      'logsynflow',
      'lpzero',
      'num_parameters',
      'snip',
      'synaptic_diversity',
      'synaptic_saliency',
      'synflow',
      'decoder_params',
    ]);
    const ids = bench.entries.map((e) => e.id);
    for (const p of peers) expect([...p.scores.keys()]).toEqual(ids);
    expect(peers.filter((p) => !p.higherIsBetter).map((p) => p.name)).toEqual(['grasp', 'lpzero']);
    expect(peer(peers, 'lpzero').scores.get('config_0_j0')).toBe(0.00026604830321161896);
  });

  it('keeps measured FLOPs costs and drops the all-zero ones', () => {
    expect(peers.filter((p) => p.costs).map((p) => p.name)).toEqual(['fisher', 'grad_norm', 'grasp', 'logsynflow', 'snip', 'synflow']);
    expect(peer(peers, 'synflow').costs!.get('config_0_j0')).toBe(6691466496);
  });

  it('num_parameters equals the published total parameter count and decoder_params is Attn + FFN', () => {
    const params = loadLtsParamsSummary();
    for (const [id, counts] of params) {
      expect(peer(peers, 'num_parameters').scores.get(id)).toBe(counts.total);
      expect(peer(peers, 'decoder_params').scores.get(id)).toBe(counts.Attn + counts.FFN);
    }
  });

  it('published-value check: LPZero Spearman 0.980 / Kendall 0.886 against valid_ppl', () => {
    const { score, quality } = oriented(bench, peer(peers, 'lpzero'));
    const rho = spearman(score, quality);
    const tau = kendallTauB(score, quality);
    // LPZero prints 0.980 and 0.886: the published scores must give them to the printed precision.
    asPrinted(rho, 0.98);
    asPrinted(tau, 0.886);
    const ci = bootstrapCI(score, quality, kendallTauB, { seed: 1, resamples: 300 });
    expect(ci.lower).toBeLessThan(0.886);
    expect(ci.upper).toBeGreaterThan(0.886);
  });

  it('parameter baselines against valid_ppl', () => {
    // Decoder parameters (LPZero's "# D.Params", Attn + FFN): NSC publishes non-embedding #params at Kendall 0.847 /
    // Spearman 0.967 on this benchmark, the baseline that LPZero's 0.980 / 0.886 has to beat.
    const decoder = oriented(bench, peer(peers, 'decoder_params'));
    asPrinted(spearman(decoder.score, decoder.quality), 0.967);
    asPrinted(kendallTauB(decoder.score, decoder.quality), 0.847);
    // Total parameters count the adaptive embeddings too, which say little about perplexity: a far worse ranking.
    const total = oriented(bench, peer(peers, 'num_parameters'));
    expect(spearman(total.score, total.quality)).toBeLessThan(spearman(decoder.score, decoder.quality) - 0.1);
    expect(kendallTauB(total.score, total.quality)).toBeLessThan(kendallTauB(decoder.score, decoder.quality) - 0.1);
    expect(spearman(total.score, total.quality)).toBeGreaterThan(0);
  });

  it('10%-PW Kendall: lpzero keeps its order among architectures of similar size', () => {
    const params = loadLtsParamsSummary();
    const decoderParams = bench.entries.map((e) => params.get(e.id)!.Attn + params.get(e.id)!.FFN);
    const lp = oriented(bench, peer(peers, 'lpzero'));
    // decoder_params can only order the pairs of a band by their residual size difference; lpzero, which reads
    // more than size, orders them better. Inside the band every proxy does worse than over all pairs.
    const lpBand = kendallWithinParamBand(lp.score, lp.quality, decoderParams);
    const decoder = oriented(bench, peer(peers, 'decoder_params'));
    const decoderBand = kendallWithinParamBand(decoder.score, decoder.quality, decoderParams);
    expect(lpBand).toBeGreaterThan(decoderBand);
    expect(decoderBand).toBeGreaterThan(0);
    expect(lpBand).toBeLessThan(kendallTauB(lp.score, lp.quality));
    expect(decoderBand).toBeLessThan(kendallTauB(decoder.score, decoder.quality));
  });
});

describe('loadPeerScores: arguments', () => {
  it('rejects an unknown benchmark', () => {
    let error: unknown;
    try {
      loadPeerScores('flexibert' as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZeroLMError);
    expect((error as ZeroLMError).code).toBe('E_ARGUMENT');
    expect((error as ZeroLMError).message).toContain('nas-bench-bert, lts-gpt2-wt103');
  });

  it('snakeCase turns csv headers into names', () => {
    expect(snakeCase('Head Softmax Confidence Normalized')).toBe('head_softmax_confidence_normalized');
    expect(snakeCase(' GLUE Score ')).toBe('glue_score');
  });
});
