import type { SafeRead } from './safe-file';
import { nextMetadata, nextSession } from './status-update';

const ok = (text: string): SafeRead => ({ ok: true, text, ino: 1, size: text.length, mtimeMs: 0 });
const ID = 'ebef3e29-0b76-4071-ad8d-d5d075397ec3';

describe('status updates (A10)', () => {
  it('rewrites only STATUS in .session and keeps every other key of metadata.json', () => {
    expect(nextSession(ok(`SESSION_ID=${ID}\nSTATUS=active\n# kept\n`), ID, 'stopped')).toEqual({
      text: `SESSION_ID=${ID}\nSTATUS=stopped\n# kept\n`,
    });
    const u = nextMetadata(
      ok('{"sessionId":"x","extra":[1]}'),
      'stopped',
      'stoppedAt',
      '2026-01-01T00:00:00Z',
    );
    expect(JSON.parse((u as { text: string }).text)).toEqual({
      sessionId: 'x',
      extra: [1],
      status: 'stopped',
      stoppedAt: '2026-01-01T00:00:00Z',
    });
  });

  it('#10 A10 an unreadable or invalid file is METADATA_UNREADABLE, never rewritten from nothing', () => {
    for (const reason of [
      'too_large',
      'not_regular',
      'encoding',
      'unreadable',
      'missing',
    ] as const) {
      expect(nextSession({ ok: false, reason }, ID, 'stopped')).toMatchObject({
        warning: 'METADATA_UNREADABLE',
      });
    }
    expect(nextSession(ok('STATUS=active\n'), ID, 'stopped')).toMatchObject({
      warning: 'METADATA_UNREADABLE',
    });
    for (const reason of ['too_large', 'not_regular', 'encoding', 'unreadable'] as const) {
      expect(nextMetadata({ ok: false, reason }, 'stopped', 'stoppedAt', 'now')).toMatchObject({
        warning: 'METADATA_UNREADABLE',
      });
    }
    for (const text of ['[1]', 'null', '"s"', '3', '{bad'])
      expect(nextMetadata(ok(text), 'stopped', 'stoppedAt', 'now')).toMatchObject({
        warning: 'METADATA_UNREADABLE',
      });
  });

  it('a missing metadata.json is written fresh; a result over the cap is METADATA_UPDATE_FAILED', () => {
    expect(nextMetadata({ ok: false, reason: 'missing' }, 'active', 'restoredAt', 'now')).toEqual({
      text: '{\n  "status": "active",\n  "restoredAt": "now"\n}\n',
    });
    const nearCap = JSON.stringify({ pad: 'x'.repeat(256 * 1024 - 20) });
    expect(nextMetadata(ok(nearCap), 'stopped', 'stoppedAt', '2026-01-01T00:00:00Z')).toMatchObject(
      { warning: 'METADATA_UPDATE_FAILED' },
    );
  });
});
