import { isHostable } from '../../domain/agents';
import { isValidText } from '../../domain/message-text';
import { type Hosts, hostsOf, markDuplicate, setHosts } from './agent-spec';

/**
 * Cross-field rules of §4.9 that class-validator cannot see from one object: which ids a position
 * may hold (from its unit's id) and which ids or unitIds repeat. They are recorded while the body
 * is transformed and judged by the `hostable_id` and `unique` validators.
 */

/** A unitId that can name positions: an integer 1-4. Otherwise hostable_id is not judged (A16). */
const usableUnit = (id: unknown): id is number =>
  typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= 4;

export const META_HOSTS: Hosts = { ids: ['00'], what: 'the meta manager' };

export const managerHosts = (unitId: unknown): Hosts | undefined =>
  usableUnit(unitId) ? { ids: [`${unitId}0`], what: `the manager of unit ${unitId}` } : undefined;

export const workerHosts = (unitId: unknown): Hosts | undefined =>
  usableUnit(unitId)
    ? {
        ids: [1, 2, 3, 4, 5].map((x) => `${unitId}${x}`).filter(isHostable),
        what: `workers of unit ${unitId}`,
      }
    : undefined;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Gives an agent (or each agent of a list) the ids its position may hold. */
export function withHosts<T>(value: T, h: Hosts | undefined): T {
  if (!h) return value;
  for (const a of Array.isArray(value) ? value : [value]) if (isObj(a)) setHosts(a, h);
  return value;
}

const units = new WeakSet<object>();
export const isDuplicateUnit = (unit: object): boolean => units.has(unit);

/**
 * Marks later repeats, in request order (meta manager, then each unit's manager and workers). An
 * agent claims its id only when it is valid where it stands (hostable, valid prompt), as §4.9's
 * first occurrence wins; lists of the wrong size are their own problem and are not walked.
 */
export function markRepeats<T>(team: T): T {
  if (!isObj(team)) return team;
  const ids = new Set<string>();
  const unitIds = new Set<number>();
  const agent = (a: unknown) => {
    if (!isObj(a) || typeof a.id !== 'string' || !/^[0-9]{2}$/.test(a.id)) return;
    const h = hostsOf(a);
    if (h && !h.ids.includes(a.id)) return;
    if (ids.has(a.id)) markDuplicate(a);
    // A16: a position without a usable unitId has no ids to judge, but `unique` still applies
    else if (isValidText(a.prompt, 5000)) ids.add(a.id);
  };
  if (team.metaManager !== undefined) agent(team.metaManager);
  const list = team.units;
  if (!Array.isArray(list) || list.length < 1 || list.length > 4) return team;
  for (const u of list) {
    if (!isObj(u)) continue;
    if (usableUnit(u.unitId)) {
      if (unitIds.has(u.unitId)) units.add(u);
      unitIds.add(u.unitId);
    }
    agent(u.manager);
    if (Array.isArray(u.workers) && u.workers.length >= 1 && u.workers.length <= 5)
      u.workers.forEach(agent);
  }
  return team;
}
