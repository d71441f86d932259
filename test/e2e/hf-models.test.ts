/** zerolm score on Hugging Face configs: warnings once per distinct message on stderr, --strict-config. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
