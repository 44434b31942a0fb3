/** The agent catalogue of contract §1.3, as plain data. */
import type { Role } from './vocabulary';

export type { Role };

export const UNIT_KEYS = ['meta', 'design', 'development', 'business', 'unit4'] as const;
const UNIT_NAMES = ['Meta', 'Design', 'Development', 'Business', 'Unit 4'];
const NAMES: Record<string, string> = {
  '00': 'Meta Manager',
  '10': 'Design Manager',
  '11': 'UI Designer',
  '12': 'UX Designer',
  '13': 'Visual Designer',
  '20': 'Development Manager',
  '21': 'Frontend Developer',
  '22': 'Backend Developer',
  '23': 'DevOps Engineer',
  '30': 'Business Manager',
  '31': 'Accounting',
  '32': 'Strategy',
  '33': 'Analytics',
  '40': 'Unit 4 Manager',
};

/** Every hostable id in roster order: 00, 10–15, 20–25, 30–35, 40–45. */
export const HOSTABLE_IDS: readonly string[] = [
  '00',
  ...[1, 2, 3, 4].flatMap((u) => [0, 1, 2, 3, 4, 5].map((x) => `${u}${x}`)),
];
const ORDER = new Map(HOSTABLE_IDS.map((id, i) => [id, i]));

export const isHostable = (id: string): boolean => ORDER.has(id);
export const rosterSort = (ids: Iterable<string>): string[] =>
  [...new Set(ids)].filter(isHostable).sort((a, b) => ORDER.get(a)! - ORDER.get(b)!);

export function unitOf(id: string): number {
  return id === '00' ? 0 : Number(id[0]);
}

export function roleOf(id: string): Role {
  if (id === '00') return 'meta';
  return id[1] === '0' ? 'manager' : 'worker';
}

export function agentName(id: string): string {
  if (NAMES[id]) return NAMES[id];
  const u = unitOf(id);
  return u === 4 ? `Unit 4 Worker ${id[1]}` : `${UNIT_NAMES[u]} Worker ${id[1]}`;
}

/** Maps a window name of either layout to its unit (§5.3); window indices play no part. */
const WINDOW_UNITS: Record<string, number> = {
  'meta-manager': 0,
  meta: 0,
  unit1: 1,
  design: 1,
  unit2: 2,
  development: 2,
  unit3: 3,
  business: 3,
};

/** The agent an untagged pane hosts, by window name and pane index, or undefined. */
export function agentForPane(windowName: string, paneIndex: number): string | undefined {
  const unit = WINDOW_UNITS[windowName];
  if (unit === undefined) return undefined;
  if (unit === 0) return paneIndex === 0 ? '00' : undefined;
  return paneIndex >= 0 && paneIndex <= 3 ? `${unit}${paneIndex}` : undefined;
}

/** Window aliases of connect (§4.6): creation name ↔ legacy name. */
export const WINDOW_ALIASES: Record<string, string> = {
  meta: 'meta-manager',
  design: 'unit1',
  development: 'unit2',
  business: 'unit3',
  'meta-manager': 'meta',
  unit1: 'design',
  unit2: 'development',
  unit3: 'business',
};

export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'tcsh', 'csh']);
