/**
 * The hostile-input battery (test/fixtures/bad/): every bad input becomes an error record with a stable code and
 * a message naming the field or line, good inputs beside it are still scored, and the exit status is non-zero.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const fixtures = join(root, 'test/fixtures/bad');

const GOOD_LINE = '{"id":"a","hidden_size":128,"nas_config":{"encoder_layers":[{"operation_type":"SA","operation_parameter":"SDP","num_operation_heads":2,"feed_forward_dimension":512,"num_feed_forward":1}]}}\n';

function score(file: string, ...flags: string[]) {
  const result = spawnSync(process.execPath, [cli, 'score', join(fixtures, file), ...flags], { cwd: root, encoding: 'utf8' });
  const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { status: result.status, stderr: result.stderr, records, errors: records.filter((r) => r.error), scored: records.filter((r) => !r.error) };
}

describe('hostile input battery', () => {
  it.each([
    ['truncated.json', 'E_PARSE', /truncated\.json:1: invalid JSON/],
    ['malformed.yaml', 'E_PARSE', /malformed\.yaml:\d+: invalid YAML/],
    ['binary-garbage.bin', 'E_PARSE', /invalid (YAML|JSON)/],
  ])('%s: one error record, exit 1', (file, code, message) => {
    const result = score(file);
    expect(result.status).toBe(1);
    expect(result.errors.length).toBeGreaterThanOrEqual(1);
    expect(result.errors[0].error.code).toBe(code);
    expect(result.errors[0].error.message).toMatch(message);
    expect(result.stderr).toMatch(/failed/);
  });

  it.each(['empty.json', 'empty.jsonl', 'whitespace.yaml'])('%s: zero inputs give zero lines and exit 0', (file) => {
    const result = score(file);
    expect(result.status).toBe(0);
    expect(result.records).toEqual([]);
    expect(result.stderr).toBe('');
  });

  it('empty stdin gives zero lines and exit 0', () => {
    const result = spawnSync(process.execPath, [cli, 'score', '-'], { cwd: root, input: '', encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
  });

  it('an alias-bomb YAML file is one error record; the files after it are still read and scored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zerolm-e2e-yaml-'));
    const bomb = join(dir, 'bomb.yaml');
    writeFileSync(bomb, `anchor: &a [1, 2, 3]\nmany:\n${'  - *a\n'.repeat(150)}`);
    const after = join(dir, 'after.jsonl');
    writeFileSync(after, GOOD_LINE);
    const result = spawnSync(process.execPath, [cli, 'score', bomb, after, '--mode', 'analytic'], { cwd: root, encoding: 'utf8' });
    const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.map((r) => r.error?.code ?? r.id)).toEqual(['E_PARSE', 'a']);
    expect(records[0].error.message).toMatch(/bomb\.yaml:1: YAML document not read/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.status).toBe(1);
  });

  it.each([
    ['stdin', (line: string) => ({ args: ['-'], input: line })],
    ['a file with no extension', (line: string) => {
      const file = join(mkdtempSync(join(tmpdir(), 'zerolm-e2e-long-')), 'inputs');
      writeFileSync(file, line);
      return { args: [file], input: '' };
    }],
  ])('an over-long first line on %s is one error record and the next line is scored', (_name, setUp) => {
    const long = `{"pad":"${'x'.repeat(70 * 1024 * 1024)}"}\n`;
    const { args, input } = setUp(long + GOOD_LINE);
    const result = spawnSync(process.execPath, [cli, 'score', ...args, '--mode', 'analytic'], { cwd: root, input, encoding: 'utf8', maxBuffer: 1 << 28 });
    const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.map((r) => r.error?.code ?? r.id)).toEqual(['E_PARSE', 'a']);
    expect(records[0].error.message).toMatch(/line is longer than/);
    expect(result.status).toBe(1);
  }, 60000);

  it('malformed JSONL: the bad line is named, its neighbours are scored', () => {
    const result = score('malformed.jsonl');
    expect(result.status).toBe(1);
    expect(result.records).toHaveLength(3);
    expect(result.records[1]).toMatchObject({ line: 2, error: { code: 'E_PARSE' } });
    expect(result.scored).toHaveLength(2);
  });

  it('wrong types name the field', () => {
    const result = score('wrong-types.jsonl');
    expect(result.records).toHaveLength(5);
    expect(result.scored.map((r) => r.id)).toEqual(['good']);
    const byId = Object.fromEntries(result.errors.map((r) => [r.id, r.error]));
    expect(byId['string-hidden']).toMatchObject({ code: 'E_FORMAT' });
    expect(byId['string-hidden'].message).toMatch(/hidden_size: must be a positive integer, got "128"/);
    expect(byId['fractional-heads'].message).toMatch(/encoder_layers\[0\]\.num_operation_heads: must be a positive integer, got 2\.5/);
    expect(byId['layers-not-array'].message).toMatch(/encoder_layers: must be a list/);
    expect(byId['heads-strings'].message).toMatch(/n_head\[0\]/);
    expect(result.status).toBe(1);
  });

  it('missing fields: the message lists what each family would need', () => {
    const result = score('missing-fields.jsonl');
    expect(result.records).toHaveLength(4);
    expect(result.errors).toHaveLength(3);
    expect(result.errors[0].error.message).toMatch(/nas-bench-bert needs hidden_size/);
    expect(result.errors[2].error.message).toMatch(/gpt2-flex needs d_model/);
    expect(result.errors.every((r) => r.error.code === 'E_FORMAT')).toBe(true);
  });

  it('zero, negative, fractional and huge sizes are refused; a huge matrix is refused before allocation, with its size', () => {
    const result = score('sizes.jsonl');
    const byId = Object.fromEntries(result.records.map((r) => [r.id, r]));
    expect(byId.zero.error.message).toMatch(/hidden_size: must be a positive integer, got 0/);
    expect(byId.negative.error.message).toMatch(/got -128/);
    expect(byId.fractional.error.message).toMatch(/got 127\.5/);
    expect(byId.huge.error.message).toMatch(/exceeds the limit/);
    expect(byId['huge-modules'].error.code).toBe('E_MEMORY_LIMIT');
    expect(byId['huge-modules'].error.message).toMatch(/\d+(\.\d+)? ?[GT]i?B|bytes/);
    expect(byId.good.score).toBeGreaterThan(0);
    expect(result.status).toBe(1);
  });

  it('unknown operations are E_UNSUPPORTED naming the value', () => {
    const result = score('unknown-operation.jsonl');
    expect(result.errors.map((r) => r.error.code)).toEqual(['E_UNSUPPORTED', 'E_UNSUPPORTED']);
    expect(result.errors[0].error.message).toMatch(/operation_type: operation type "RNN"/);
    expect(result.errors[1].error.message).toMatch(/XYZ/);
    expect(result.scored).toHaveLength(1);
  });

  it('NaN and Infinity std are refused, naming the field', () => {
    const result = score('non-finite-std.yaml');
    expect(result.records).toHaveLength(3);
    expect(result.errors[0].error.message).toMatch(/layers\[0\]\.attention\[0\]\.init\.std: .*NaN/);
    expect(result.errors[1].error.message).toMatch(/Infinity/);
    expect(result.scored.map((r) => r.id)).toEqual(['fine']);
  });

  it('NaN and Infinity alpha are refused on the command line', () => {
    for (const alpha of ['NaN', 'Infinity', '-Infinity', 'abc']) {
      const result = spawnSync(process.execPath, [cli, 'score', '--alpha', alpha, join(fixtures, 'malformed.jsonl')], { cwd: root, encoding: 'utf8' });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/--alpha must be a finite number/);
    }
  });

  it('a 10,000-layer model is scored', () => {
    const layer = { operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 2, feed_forward_dimension: 512, num_feed_forward: 1 };
    const model = { id: 'deep', hidden_size: 128, nas_config: { encoder_layers: Array.from({ length: 10000 }, () => layer) } };
    const result = spawnSync(process.execPath, [cli, 'score', '-'], { cwd: root, input: JSON.stringify(model), encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(result.status).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record.layers).toHaveLength(10000);
    expect(record.attention).toBeCloseTo(10000 * record.layers[0].attention, 6);
  });

  it('a 1 GB line is skipped without being held in memory, and the next line is scored', async () => {
    const good = '{"id":"after","hidden_size":128,"nas_config":{"encoder_layers":[{"operation_type":"SA","operation_parameter":"SDP","num_operation_heads":2,"feed_forward_dimension":512,"num_feed_forward":1}]}}';
    const child = spawn(process.execPath, ['--max-old-space-size=256', cli, 'score', '-', '--format', 'jsonl', '--mode', 'analytic'], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const chunk = Buffer.alloc(1 << 22, 0x61); // 4 MiB of 'a'
    let broken: Error | undefined;
    child.stdin.on('error', (error) => (broken = error));
    const write = async (data: Buffer | string): Promise<void> => {
      if (broken) throw broken;
      if (!child.stdin.write(data)) await new Promise((ok) => child.stdin.once('drain', ok));
    };
    await write('{"pad":"');
    for (let i = 0; i < 256; i++) await write(chunk); // 1 GiB
    await write('"}\n' + good + '\n');
    child.stdin.end();
    const status = await new Promise<number | null>((ok) => child.on('close', ok));
    const records = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ line: 1, error: { code: 'E_PARSE' } });
    expect(records[0].error.message).toMatch(/line is longer than/);
    expect(records[1].id).toBe('after');
    expect(stderr).toMatch(/1 scored, 1 failed/);
    expect(status).toBe(1);
  }, 120000);
});

describe('--cache never destroys a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zerolm-e2e-cache-'));
  const good = '{"id":"a","hidden_size":128,"nas_config":{"encoder_layers":[{"operation_type":"SA","operation_parameter":"SDP","num_operation_heads":2,"feed_forward_dimension":512,"num_feed_forward":1}]}}\n';
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

  it('the input file given as its own cache is refused before any work (exit 2) and left byte-identical', () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, good);
    const result = run('score', input, '--cache', input, '--mode', 'analytic');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/E_CACHE: cache .*in\.jsonl: is not a zerolm cache file; refusing to replace it/);
    expect(readFileSync(input, 'utf8')).toBe(good);
  });

  it.each([
    ['a directory', () => dir, /is a directory/],
    ['a device node', () => '/dev/null', /not a regular file/],
    ['a missing folder', () => join(dir, 'missing/cache.json'), /does not exist/],
  ])('%s as --cache fails before the work starts, exit 2', (_name, path, message) => {
    const input = join(dir, 'in2.jsonl');
    writeFileSync(input, good);
    const result = run('score', input, '--cache', path(), '--mode', 'analytic');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  // Exact mode: analytic capacities are computed straight into the scorer's memo, not the capacity cache.
  it('two runs saving to the same cache at once keep both runs\' capacities', async () => {
    const inputs = [128, 256].map((hidden) => {
      const file = join(dir, `h${hidden}.jsonl`);
      writeFileSync(file, GOOD_LINE.replace('"hidden_size":128', `"hidden_size":${hidden}`));
      return file;
    });
    const countOf = (file: string): number => JSON.parse(readFileSync(file, 'utf8')).count;
    const alone = inputs.map((input, i) => {
      const cache = join(dir, `alone-${i}.json`);
      expect(run('score', input, '--cache', cache).status).toBe(0);
      return countOf(cache);
    });
    const both = join(dir, 'both.json');
    expect(run('score', ...inputs, '--cache', both).status).toBe(0);
    const shared = join(dir, 'shared.json');
    const statuses = await Promise.all(
      inputs.map(
        (input) =>
          new Promise<number | null>((done) => spawn(process.execPath, [cli, 'score', input, '--cache', shared], { cwd: root, stdio: 'ignore' }).on('close', done)),
      ),
    );
    expect(statuses).toEqual([0, 0]);
    expect(alone.every((count) => count < countOf(both))).toBe(true);
    expect(countOf(shared)).toBe(countOf(both));
  });

  it('a cache written through a symbolic link is read back on the next run', () => {
    const input = join(dir, 'in3.jsonl');
    writeFileSync(input, good);
    symlinkSync(join(dir, 'real-cache.json'), join(dir, 'link-cache.json'));
    expect(run('score', input, '--cache', join(dir, 'link-cache.json')).status).toBe(0);
    expect(lstatSync(join(dir, 'link-cache.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'real-cache.json'), 'utf8')).count).toBeGreaterThan(0);
  });
});

describe('per-input cost and non-finite scores on the command line', () => {
  it('a 170-byte HF config asking for 1,048,576 layers is one E_MEMORY_LIMIT record naming the field; the next input is scored', () => {
    const config = '{"model_type":"llama","vocab_size":32000,"hidden_size":64,"num_hidden_layers":1048576,"num_attention_heads":4,"intermediate_size":128}\n';
    const result = spawnSync(process.execPath, ['--max-old-space-size=256', cli, 'score', '-', '--mode', 'analytic'], { cwd: root, input: config + GOOD_LINE, encoding: 'utf8' });
    const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.map((r) => r.error?.code ?? r.id)).toEqual(['E_MEMORY_LIMIT', 'a']);
    expect(records[0].error.message).toMatch(/^num_hidden_layers: 1048576 layers exceed the per-input limit/);
    expect(result.status).toBe(1);
  });

  it('a calibration file whose alpha overflows gives E_NON_FINITE records, never "score": null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zerolm-e2e-calibration-'));
    const calibration = join(dir, 'calibration.json');
    const made = spawnSync(process.execPath, [cli, 'calibrate', 'nas-bench-bert', '--out', calibration, '--strategy', 'fixed', '--alpha', '1e308', '--mode', 'analytic'], { cwd: root, encoding: 'utf8' });
    expect(made.status).toBe(0);
    const result = spawnSync(process.execPath, [cli, 'score', '-', '--calibration', calibration, '--init', 'normal:1'], { cwd: root, input: GOOD_LINE + GOOD_LINE, encoding: 'utf8' });
    expect(result.stdout).not.toMatch(/null/);
    const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.map((r) => r.error?.code)).toEqual(['E_NON_FINITE', 'E_NON_FINITE']);
    expect(result.status).toBe(1);
  });

  it('--alpha 1e308 gives E_NON_FINITE records, never "score": null', () => {
    const result = spawnSync(process.execPath, [cli, 'score', '-', '--mode', 'analytic', '--alpha', '1e308', '--init', 'normal:1'], { cwd: root, input: GOOD_LINE, encoding: 'utf8' });
    expect(result.stdout).not.toMatch(/null/);
    const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.map((r) => r.error?.code)).toEqual(['E_NON_FINITE']);
    expect(result.status).toBe(1);
  });
});

describe('options and outputs that are wrong for every input fail once, before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zerolm-e2e-options-'));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, GOOD_LINE + GOOD_LINE);
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

  it.each([
    [['score', input, '--build', 'bogus'], /E_UNSUPPORTED: build "bogus" is not a build of any family/],
    [['score', input, '--build', 'lpzero', '--family', 'hf'], /build "lpzero" is not a build of family hf/],
    [['score', input, '--init', 'normal:1e300'], /E_ARGUMENT: init std 1e\+300 is above/],
    [['score', input, '--init', 'normal:0.02:3'], /unexpected text after "normal:0\.02"/],
    [['calibrate', 'nas-bench-bert', '--out', join(dir, 'c.json'), '--strategy', 'fixed'], /--strategy fixed needs --alpha/],
    [['calibrate', 'nas-bench-bert', '--out', join(dir, 'missing/c.json')], /E_IO: --out .*: folder .* does not exist/],
    [['calibrate', 'nas-bench-bert', '--out', dir], /E_IO: --out .*: is a directory/],
    [['eval', 'nas-bench-bert', '--plot', join(dir, 'x.gif')], /--plot .*x\.gif: the plot is drawn as \.svg or \.png/],
    [['eval', 'nas-bench-bert', '--plot', join(dir, 'missing/x.svg')], /E_IO: --plot .*: folder .* does not exist/],
    [['eval', 'nas-bench-bert', '--builds', 'as-trained,bogus'], /build "bogus"/],
    [['sample', 'hf-decoder', '--count', '3', '--vocab', '1000000000'], /hf-decoder vocab: must be an integer from 1 to 1048576/],
  ])('%j: one message, exit 2, no output', (args, message) => {
    const result = run(...(args as string[]));
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message as RegExp);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it.each([
    ['--seed', ''],
    ['--seed', '0x10'],
    ['--seed', ' 7'],
    ['--seed', '1e3'],
    ['--alpha', ''],
    ['--alpha', '0x10'],
    ['--threads', '2.5'],
  ])('%s %j is refused', (flag, value) => {
    const result = run('score', input, flag, value);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`${flag} must be`));
  });
});
