import * as fs from 'fs';
import * as path from 'path';
import { ZeroLMError } from '../../../src/errors';
import { Benchmark, loadBenchmark, loadLtsParamsSummary } from '../../../src/eval/benchmarks';
import { loadPeerScores, PeerScores, snakeCase } from '../../../src/eval/peers';
import { bootstrapCI, kendallTauB, kendallWithinParamBand, spearman } from '../../../src/stats/rank';

const dataDir = path.resolve(__dirname, '../../../data/benchmarks');

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

  it('published-value check: Number of Parameters vs GLUE', () => {
    const { score, quality } = oriented(bench, peer(peers, 'number_of_parameters'));
    const tau = kendallTauB(score, quality);
    const rho = spearman(score, quality);
    // Measured: tau_b 0.4544, rho 0.6525 (the PyTorch port's parameter counts, 234 distinct values). NSC quotes
    // #Params Kendall 0.485 on these 500 architectures: this column does not reproduce it (0.031 lower); NSC's
    // count must come from another build of the models.
    expect(tau).toBeCloseTo(0.4544, 3);
    expect(rho).toBeCloseTo(0.6525, 3);
    expect(Math.abs(tau - 0.485)).toBeGreaterThan(0.01);
  });

  it('published-value check: LPZero and head confidence vs GLUE', () => {
    // Measured lpzero: tau 0.4802, rho 0.7154; LPZero reports tau 0.51 / rho 0.75 on FlexiBERT.
    const lp = oriented(bench, peer(peers, 'lpzero'));
    expect(kendallTauB(lp.score, lp.quality)).toBeCloseTo(0.4802, 3);
    expect(spearman(lp.score, lp.quality)).toBeCloseTo(0.7154, 3);
    // Serianni & Kalita's best metric, head confidence: tau 0.4785, rho 0.7162.
    const hc = oriented(bench, peer(peers, 'head_confidence'));
    expect(kendallTauB(hc.score, hc.quality)).toBeCloseTo(0.4785, 3);
    expect(spearman(hc.score, hc.quality)).toBeCloseTo(0.7162, 3);
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
    // Measured: rho 0.9803, tau 0.8861.
    expect(Math.abs(rho - 0.98)).toBeLessThan(0.005);
    expect(Math.abs(tau - 0.886)).toBeLessThan(0.005);
    expect(rho).toBeCloseTo(0.9803, 3);
    expect(tau).toBeCloseTo(0.8861, 3);
    const ci = bootstrapCI(score, quality, kendallTauB, { seed: 1, resamples: 300 });
    expect(ci.lower).toBeLessThan(0.886);
    expect(ci.upper).toBeGreaterThan(0.886);
  });

  it('parameter baselines against valid_ppl', () => {
    // Total parameters (embeddings included): rho 0.7374, tau 0.5823. Decoder parameters (LPZero's "# D.Params",
    // Attn + FFN): rho 0.9670, tau 0.8468, the baseline that LPZero's 0.980 / 0.886 has to beat.
    const total = oriented(bench, peer(peers, 'num_parameters'));
    expect(spearman(total.score, total.quality)).toBeCloseTo(0.7374, 3);
    expect(kendallTauB(total.score, total.quality)).toBeCloseTo(0.5823, 3);
    const decoder = oriented(bench, peer(peers, 'decoder_params'));
    expect(spearman(decoder.score, decoder.quality)).toBeCloseTo(0.967, 3);
    expect(kendallTauB(decoder.score, decoder.quality)).toBeCloseTo(0.8468, 3);
  });

  it('10%-PW Kendall: lpzero keeps its order among architectures of similar size', () => {
    const params = loadLtsParamsSummary();
    const decoderParams = bench.entries.map((e) => params.get(e.id)!.Attn + params.get(e.id)!.FFN);
    const lp = oriented(bench, peer(peers, 'lpzero'));
    // Measured: 0.400 for lpzero against 0.165 for decoder_params itself (which can only order pairs by the
    // residual size difference inside the band).
    expect(kendallWithinParamBand(lp.score, lp.quality, decoderParams)).toBeCloseTo(0.4, 3);
    const decoder = oriented(bench, peer(peers, 'decoder_params'));
    expect(kendallWithinParamBand(decoder.score, decoder.quality, decoderParams)).toBeCloseTo(0.1645, 3);
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
