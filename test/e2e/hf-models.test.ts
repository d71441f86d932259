/** zerolm score on Hugging Face configs: warnings once per distinct message on stderr, --strict-config. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSafetensors } from '../helpers/safetensors';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'zerolm-hf-'));
const relabelled = { model_type: 'mistral', vocab_size: 100, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_local_experts: 8, num_experts_per_tok: 2 };

function zerolm(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr, records: result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

describe('zerolm score: hf config warnings', () => {
  const single = join(work, 'relabelled.json');
  const lines = join(work, 'relabelled.jsonl');
  writeFileSync(single, JSON.stringify(relabelled));
  writeFileSync(lines, `${JSON.stringify(relabelled)}\n`.repeat(5));

  it.each([['0'], ['2']])('prints each distinct warning once, whatever the record count (--workers %s)', (workers) => {
    const result = zerolm(['score', single, lines, single, '--workers', workers]);
    expect(result.status).toBe(0);
    expect(result.records).toHaveLength(7);
    for (const record of result.records) expect(record.warnings).toEqual([expect.stringContaining('num_local_experts')]);
    const warnings = result.stderr.split('\n').filter((line) => line.includes('warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^zerolm score: warning: model_type "mistral" does not read num_local_experts, num_experts_per_tok, which would change the architecture/);
  });

  it('--strict-config refuses the config: an E_UNSUPPORTED record and exit 1', () => {
    const result = zerolm(['score', single, '--strict-config']);
    expect(result.status).toBe(1);
    expect(result.records).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: 'E_UNSUPPORTED' }) })]);
    expect(result.stderr).toMatch(/E_UNSUPPORTED: .*num_local_experts/);
  });
});

describe('zerolm score --weights', () => {
  const config = { model_type: 'llama', vocab_size: 16, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, intermediate_size: 12 };
  const configFile = join(work, 'config.json');
  const weights = join(work, 'model.safetensors');
  const pruneFile = join(work, 'prune.json');
  const shapes: Array<[string, number, number]> = [['self_attn.q_proj', 8, 8], ['self_attn.k_proj', 4, 8], ['self_attn.v_proj', 4, 8], ['self_attn.o_proj', 8, 8], ['mlp.gate_proj', 12, 8], ['mlp.up_proj', 12, 8], ['mlp.down_proj', 8, 12]];
  writeFileSync(configFile, JSON.stringify(config));
  // Every matrix 0.5 * a partial identity: each singular value is 0.5, so mean-sq-sv is 0.25 per matrix.
  writeSafetensors(
    weights,
    [0, 1].flatMap((layer) =>
      shapes.map(([local, rows, cols]) => ({
        name: `model.layers.${layer}.${local}.weight`,
        shape: [rows, cols],
        values: Float32Array.from({ length: rows * cols }, (_, k) => (Math.floor(k / cols) === k % cols ? 0.5 : 0)),
        dtype: 'BF16' as const,
      })),
    ),
  );
  writeFileSync(pruneFile, JSON.stringify({ layers: [1] }));

  it('scores the real weights: one record with per-matrix capacities', () => {
    const result = zerolm(['score', configFile, '--weights', weights, '--per-matrix', '--measure', 'mean-sq-sv']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const [record] = result.records;
    expect(record).toMatchObject({ attention: 8 * 0.25, ffn: 6 * 0.25, weights, source: configFile, mode: 'exact' });
    expect(record.matrices).toHaveLength(14);
    expect(record.matrices[0]).toEqual({ layer: 0, block: 'attention', name: 'layers.0.attention.query', tensor: 'model.layers.0.self_attn.q_proj.weight', rows: 8, cols: 8, capacity: 0.25 });
  });

  it('--prune drops what the file names; analytic mode is refused (exit 2); a missing tensor is an error record (exit 1)', () => {
    const pruned = zerolm(['score', configFile, '--weights', weights, '--prune', pruneFile, '--measure', 'mean-sq-sv']);
    expect(pruned.status).toBe(0);
    expect(pruned.records[0]).toMatchObject({ attention: 4 * 0.25, ffn: 3 * 0.25, pruned: { layers: 1, heads: 0, channels: 0 } });
    const analytic = zerolm(['score', configFile, '--weights', weights, '--mode', 'analytic']);
    expect(analytic.status).toBe(2);
    expect(analytic.stderr).toMatch(/mode 'analytic' is refused for real weights/);
    const bigger = join(work, 'config3.json');
    writeFileSync(bigger, JSON.stringify({ ...config, num_hidden_layers: 3 }));
    const missing = zerolm(['score', bigger, '--weights', weights]);
    expect(missing.status).toBe(1);
    expect(missing.records[0].error).toMatchObject({ code: 'E_FORMAT', message: expect.stringContaining('missing tensor "model.layers.2.self_attn.q_proj.weight"') });
    expect(missing.stderr).toMatch(/E_FORMAT/);
  });
});
