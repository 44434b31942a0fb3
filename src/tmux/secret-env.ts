/**
 * Secret values (MAS_AGENT_ENV_PASSTHROUGH) reach tmux only on stdin (A5): the tmux server keeps its
 * first client's argv, world-readable, for its whole life, and every client's argv is visible in `ps`
 * while it runs. A forked create reads them with `source-file -`; over a control client they are
 * lines on its stdin. Either way they become session environment before any agent pane exists.
 */
export const SOURCE_STDIN: readonly string[] = ['source-file', '-'];

export const isSourceStdin = (cmd: string[]): boolean =>
  cmd.length === 2 && cmd[0] === SOURCE_STDIN[0] && cmd[1] === SOURCE_STDIN[1];

/**
 * The commands themselves, for a control client (its line quoting applies, T-74). Never for argv.
 * `session` is `=name` in the creating invocation, the created `$N` after it (A1).
 */
export function secretEnvCommands(session: string, env: Record<string, string>): string[][] {
  return Object.entries(env).map(([k, v]) => ['set-environment', '-t', `${session}:`, k, v]);
}

/** What `source-file -` reads: one `set-environment` per variable, values quoted byte by byte. */
export function secretEnvScript(session: string, env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `set-environment -t '${session}:' ${k} ${configQuote(v)}\n`)
    .join('');
}

const PLAIN = /[A-Za-z0-9_./:,+=-]/;

/**
 * A double-quoted word for tmux's configuration parser (T-74) that comes back byte for byte: every
 * byte outside a small plain set is an octal escape (`\ooo`, tmux 3.3a cmd-parse.y), so quotes, `$`,
 * `~`, `#`, `;`, `\`, newlines and UTF-8 all survive without expansion.
 */
export function configQuote(value: string): string {
  let out = '"';
  for (const b of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && PLAIN.test(ch) ? ch : `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}
