import { applyDecorators } from '@nestjs/common';
import { IsString, ValidateBy } from 'class-validator';
import { Required } from '../common/validation/field.decorators';
import { HOSTABLE_IDS, rosterSort, unitOf, UNIT_KEYS } from '../domain/agents';

export interface TargetSet {
  /** Ids named explicitly: outside the roster they produce `not_found` receipts. */
  explicit: Set<string>;
  /** Ids from groups: narrowed to the roster. */
  group: Set<string>;
}

const ID = /^(00|[1-4][0-5])$/;
const unitIds = (u: number): string[] => HOSTABLE_IDS.filter((id) => unitOf(id) === u);

/** Expands one item of the target grammar (contract §4.10), or undefined for a grammar violation. */
function item(s: string): { ids: string[]; explicit: boolean } | undefined {
  const bare = s.startsWith('agent-') ? s.slice(6) : s;
  if (ID.test(bare) && (s === bare || s.startsWith('agent-')))
    return { ids: [bare], explicit: true };
  if (s === 'all') return { ids: [...HOSTABLE_IDS], explicit: false };
  if (s === 'managers')
    return { ids: HOSTABLE_IDS.filter((id) => id === '00' || id[1] === '0'), explicit: false };
  if (s === 'workers')
    return { ids: HOSTABLE_IDS.filter((id) => id !== '00' && id[1] !== '0'), explicit: false };
  let m = s.match(/^window([0-4])$/) ?? s.match(/^([0-4])$/);
  if (m) return { ids: unitIds(Number(m[1])), explicit: false };
  m = s.match(/^unit([1-4])$/);
  if (m) return { ids: unitIds(Number(m[1])), explicit: false };
  const key = (UNIT_KEYS as readonly string[]).indexOf(s);
  if (key >= 0) return { ids: unitIds(key), explicit: false };
  return undefined;
}

/** Parses a target; undefined when it violates the grammar or its limits (25 items, 256 chars). */
export function parseTarget(target: string): TargetSet | undefined {
  if (target.length === 0 || target.length > 256) return undefined;
  const items = target.split(',').map((x) => x.trim());
  if (items.length > 25) return undefined;
  const out: TargetSet = { explicit: new Set(), group: new Set() };
  for (const it of items) {
    const r = item(it);
    if (!r) return undefined;
    for (const id of r.ids) (r.explicit ? out.explicit : out.group).add(id);
  }
  return out;
}

/** Roster-ordered, deduplicated ids to address, and explicit ids the session does not host. */
export function expandTarget(t: TargetSet, roster: string[]): { ids: string[]; missing: string[] } {
  const inRoster = new Set(roster);
  const ids = rosterSort([...t.explicit, ...[...t.group].filter((id) => inRoster.has(id))]);
  return { ids, missing: ids.filter((id) => !inRoster.has(id)) };
}

const TARGET_MESSAGE =
  'must be a target such as all, managers, workers, agent-10, 10, window2, design or a comma list';

/** The target grammar of §4.10 as validators: every failure reports the same hint. */
export const IsTarget = () =>
  applyDecorators(
    Required(TARGET_MESSAGE),
    IsString({ message: TARGET_MESSAGE }),
    ValidateBy({
      name: 'grammar',
      validator: {
        validate: (v) => typeof v !== 'string' || parseTarget(v) !== undefined,
        defaultMessage: () => TARGET_MESSAGE,
      },
    }),
  );
