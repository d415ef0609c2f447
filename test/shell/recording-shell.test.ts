import { existsSync } from 'node:fs';
import { missingShells, runWithStandIns, SHELLS, type ShellSpec } from '../support/recording-shell.js';

// The harness is what the command tests trust; these prove that what it
// reports is real (positive controls), not just that it stays quiet.
describe('runWithStandIns', () => {
  it('records every invocation, in order, with exact arguments', async () => {
    const result = await runWithStandIns(`kubectl; gcloud ''; kubectl a 'b c' "$(printf 'x\\ny')" '' --`);
    expect(result.exitCode).toBe(0);
    expect(result.invocations.map(({ program, argv }) => ({ program, argv }))).toEqual([
      { program: 'kubectl', argv: [] },
      { program: 'gcloud', argv: [''] },
      { program: 'kubectl', argv: ['a', 'b c', 'x\ny', '', '--'] },
    ]);
  });

  it('keeps raw bytes that are not UTF-8', async () => {
    const result = await runWithStandIns(`kubectl $'\\xff\\xfe'`);
    expect(result.invocations[0]?.rawArgv).toEqual([Buffer.from([0xff, 0xfe])]);
  });

  it('shadows the real kubectl and gcloud', async () => {
    const result = await runWithStandIns('command -v kubectl; command -v gcloud');
    const [kubectl, gcloud] = result.stdout.trim().split('\n');
    expect(kubectl).toMatch(/recording-shell-[^/]+\/bin\/kubectl$/);
    expect(gcloud).toMatch(/recording-shell-[^/]+\/bin\/gcloud$/);
  });

  it('detects injected code through the canary', async () => {
    const result = await runWithStandIns('touch "$CANARY_DIR/pwned"; kubectl x');
    expect(result.canaryFiles).toEqual(['pwned']);
  });

  it('gives each run a clean environment and its own sandbox, removed afterwards', async () => {
    const result = await runWithStandIns('env; echo "cwd=$PWD"', { env: { EXTRA: '1' } });
    const names = result.stdout
      .split('\n')
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l) && !l.startsWith('cwd='))
      .map((l) => l.slice(0, l.indexOf('=')))
      .filter((n) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(n)) // set by bash itself
      .sort();
    expect(names).toEqual(['CANARY_DIR', 'EXTRA', 'HOME', 'PATH', 'TMPDIR']);
    const home = /^HOME=(.*)$/m.exec(result.stdout)?.[1];
    const cwd = /^cwd=(.*)$/m.exec(result.stdout)?.[1];
    expect(home).toBeDefined();
    expect(cwd).toBeDefined();
    expect(existsSync(home!)).toBe(false);
    expect(existsSync(cwd!)).toBe(false);
  });

  it('kills a command that runs too long', async () => {
    const started = Date.now();
    const result = await runWithStandIns('sleep 30', { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not hang on a background job holding the output open', async () => {
    const started = Date.now();
    const result = await runWithStandIns('sleep 30 & kubectl done');
    expect(result.timedOut).toBe(false);
    expect(result.invocations.map((i) => i.argv)).toEqual([['done']]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('records what a program told to read stdin (-f -, --filename=-) read, and nothing for others', async () => {
    const result = await runWithStandIns("kubectl apply -f - <<'EOF'\na: 1\nEOF\nkubectl get pods\nprintf 'b\\0c' | kubectl apply --filename=-");
    expect(result.invocations.map((i) => i.stdin?.toString('utf8') ?? null)).toEqual(['a: 1\n', null, 'b\0c']);
  });

  it('runs the command in each shell, and the shells differ where they are expected to (positive control)', async () => {
    expect(missingShells()).toEqual([]);
    // $'…' is not POSIX: bash, zsh and busybox sh (1.35, a bash extension) know it; dash reads a $ and a quoted string.
    const got: Record<string, string[][]> = {};
    for (const shell of SHELLS) got[shell.name] = (await runWithStandIns("kubectl $'a\\tb'", { shell })).invocations.map((i) => i.argv);
    expect(got).toEqual({
      'bash -c': [['a\tb']],
      'zsh -c': [['a\tb']],
      'dash -c': [['$a\\tb']],
      'busybox sh -c': [['a\tb']],
      'bash -i (history expansion, extglob)': [['a\tb']],
      'zsh -i (banghist, extendedglob, magicequalsubst, kshglob, rcquotes)': [['a\tb']],
    });
  });

  it.each(SHELLS.filter((s) => s.mode === 'stdin').map((s) => [s.name, s] as [string, ShellSpec]))('%s: history expansion is on, and its own notices are not reported as errors', async (_name, shell) => {
    const result = await runWithStandIns('kubectl first\nkubectl !!', { shell });
    expect(result.invocations.map((i) => i.argv)).toEqual([['first'], ['kubectl', 'first']]);
    // The expanded line is echoed: that is the shell speaking about the command, so it stays.
    expect(result.stderr).toContain('kubectl kubectl first');
    expect(result.stderr).not.toMatch(/job control|^exit$/m);
  });

  it('refuses a command longer than one argv string can be', async () => {
    await expect(runWithStandIns('x'.repeat(200_000))).rejects.toThrow(RangeError);
  });
});
