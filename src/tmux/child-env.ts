import type { MasConfig } from '../config/mas-config';

const LOCALE_VARS = ['LANG', 'LC_ALL', 'LC_CTYPE'];
const BASE_VARS = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'TMPDIR', 'TMUX_TMPDIR'];

/** Minimal client environment (contract §7.1): allowlist, UTF-8 locale, passthrough; never MAS_API_*. */
export function childEnv(cfg: MasConfig): Record<string, string> {
  const src = cfg.serviceEnv;
  const env: Record<string, string> = {};
  for (const k of [...BASE_VARS, ...LOCALE_VARS, ...cfg.agentEnvPassthrough]) {
    const v = src[k];
    if (v !== undefined && !k.startsWith('MAS_API_')) env[k] = v;
  }
  if (!env.PATH) env.PATH = '/usr/local/bin:/usr/bin:/bin';
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  if (!/utf-?8/i.test(locale)) env.LC_ALL = 'C.UTF-8';
  return env;
}
