import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CheckedDir } from '../../workspace/checked-dir';
import { TranscriptFile } from './transcript-file';
import { readTranscript } from './transcript-reader';

describe('TranscriptFile', () => {
  let d: string;
  let dir: CheckedDir;

  beforeEach(async () => {
    d = mkdtempSync(path.join(tmpdir(), 'tf-'));
    dir = await CheckedDir.open(d);
  });
  afterEach(async () => {
    await dir.close();
    rmSync(d, { recursive: true, force: true });
  });

  it('rolls over at maxBytes, keeping one old generation and absolute offsets', () => {
    const f = TranscriptFile.open(dir, '10', 8, { base: 0, gaps: [] });
    f.append(Buffer.from('0123456789'));
    f.append(Buffer.from('abc'));
    expect(f.end).toBe(13);
    expect(readFileSync(path.join(d, '10.log.1'), 'utf8')).toBe('0123456789');
    expect(readTranscript(d, '10', { from: 0, limit: 100, format: 'raw' }).data).toBe(
      '0123456789abc',
    );
    f.close();
  });

  it('A14-8: a rollover that cannot rename keeps appending to the same file and retries later', () => {
    mkdirSync(path.join(d, '10.log.1'));
    writeFileSync(path.join(d, '10.log.1', 'keep'), 'x');
    const f = TranscriptFile.open(dir, '10', 8, { base: 0, gaps: [] });
    for (let i = 0; i < 5; i++) f.append(Buffer.from('0123456789'));
    expect(f.end).toBe(50);
    expect(statSync(path.join(d, '10.log')).size).toBe(50);
    rmSync(path.join(d, '10.log.1'), { recursive: true });
    f.append(Buffer.from('zzzzzzzz')); // the next try: one maxBytes after the failed one
    f.append(Buffer.from('after'));
    expect(f.end).toBe(63);
    expect(readFileSync(path.join(d, '10.log'), 'utf8')).toBe('after');
    expect(readTranscript(d, '10', { from: 40, limit: 100, format: 'raw' }).data).toBe(
      '0123456789zzzzzzzzafter',
    );
    f.close();
    expect(() => f.close()).not.toThrow();
  });
});
