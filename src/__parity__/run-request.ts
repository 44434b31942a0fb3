import { isHostable, rosterSort } from '../common/agents';
import { ValidationError, type ValidationIssue } from '../errors/mas-error';
import { normaliseText, textIssue } from './message-text';

export interface RunRequest {
  roster: string[];
  prompts: Map<string, string>;
  /** The accepted `agents` object, known keys only (config.json). */
  config: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a RunsRequest (contract §4.9); every problem is reported with its dotted field. */
export function parseRunRequest(body: Obj): RunRequest {
  const issues: ValidationIssue[] = [];
  const add = (field: string, rule: string, message: string) =>
    issues.push({ location: 'body', field, rule, message });
  const prompts = new Map<string, string>();
  /** `allowed` undefined: the parent unit has no usable id, so `hostable_id` cannot be judged (A16). */
  const agent = (
    v: unknown,
    field: string,
    allowed: string[] | undefined,
    what: string,
  ): Obj | undefined => {
    if (!isObj(v))
      return void add(
        field,
        v === undefined ? 'required' : 'type',
        'must be an object with id and prompt',
      );
    const id = v.id;
    if (typeof id !== 'string')
      add(`${field}.id`, id === undefined ? 'required' : 'type', 'must be a two-digit string');
    else if (!/^[0-9]{2}$/.test(id)) add(`${field}.id`, 'pattern', 'must be two digits');
    else if (allowed && !allowed.includes(id))
      add(
        `${field}.id`,
        'hostable_id',
        `${what} ${allowed.length === 1 ? 'is' : 'are'} ${allowed.join(', ')}`,
      );
    else if (prompts.has(id)) add(`${field}.id`, 'unique', `agent ${id} appears twice`);
    const t = textIssue(v.prompt, `${field}.prompt`, 5000);
    if (t) issues.push(t);
    if (typeof id === 'string' && allowed?.includes(id) && !t && !prompts.has(id))
      prompts.set(id, normaliseText(v.prompt as string));
    return { id, prompt: v.prompt };
  };
  const agents = body.agents;
  const config: Obj = {};
  if (!isObj(agents))
    add('agents', agents === undefined ? 'required' : 'type', 'must be an object');
  else {
    if (agents.metaManager !== undefined)
      config.metaManager = agent(
        agents.metaManager,
        'agents.metaManager',
        ['00'],
        'the meta manager',
      );
    const units = agents.units;
    if (!Array.isArray(units))
      add(
        'agents.units',
        units === undefined ? 'required' : 'type',
        'must be an array of 1 to 4 units',
      );
    else if (units.length < 1 || units.length > 4)
      add('agents.units', 'length', 'must hold 1 to 4 units');
    else {
      const seen = new Set<number>();
      config.units = units.map((u, i) => unit(u, `agents.units[${i}]`, seen, add, agent));
    }
  }
  if (issues.length) throw new ValidationError(issues);
  return { roster: rosterSort(prompts.keys()), prompts, config };
}

function unit(
  u: unknown,
  f: string,
  seen: Set<number>,
  add: (f: string, r: string, m: string) => void,
  agent: (
    v: unknown,
    field: string,
    allowed: string[] | undefined,
    what: string,
  ) => Obj | undefined,
): Obj | undefined {
  if (!isObj(u)) return void add(f, 'type', 'must be an object');
  const id = unitIdOf(u.unitId, f, seen, add);
  // A16: a bad unitId still lets the children be checked, against no unit's ids (hostable_id skipped)
  const managerIds = id === undefined ? undefined : [`${id}0`];
  const manager = agent(u.manager, `${f}.manager`, managerIds, `the manager of unit ${id}`);
  const workerIds =
    id === undefined ? undefined : [1, 2, 3, 4, 5].map((x) => `${id}${x}`).filter(isHostable);
  let workers: (Obj | undefined)[] = [];
  if (!Array.isArray(u.workers))
    add(
      `${f}.workers`,
      u.workers === undefined ? 'required' : 'type',
      'must be an array of 1 to 5 workers',
    );
  else if (u.workers.length < 1 || u.workers.length > 5)
    add(`${f}.workers`, 'length', 'must hold 1 to 5 workers');
  else
    workers = u.workers.map((w, j) =>
      agent(w, `${f}.workers[${j}]`, workerIds, `workers of unit ${id}`),
    );
  return { unitId: id, manager, workers };
}

/** The unit's id when it is a usable integer 1-4, else undefined (its problem recorded). */
function unitIdOf(
  id: unknown,
  f: string,
  seen: Set<number>,
  add: (f: string, r: string, m: string) => void,
): number | undefined {
  if (typeof id !== 'number' || !Number.isInteger(id))
    return void add(
      `${f}.unitId`,
      id === undefined ? 'required' : 'type',
      'must be an integer from 1 to 4',
    );
  if (id < 1 || id > 4) return void add(`${f}.unitId`, 'range', 'must be an integer from 1 to 4');
  if (seen.has(id)) add(`${f}.unitId`, 'unique', `unit ${id} appears twice`);
  seen.add(id);
  return id;
}
