import { RequestValidationPipe } from '../../common/validation/request-validation.pipe';
import { ValidationError } from '../../errors/mas-error';
import { runPlan } from '../run-request';
import { RunsRequest } from './runs-request';

const pipe = new RequestValidationPipe();
const parse = (body: unknown) =>
  pipe.transform(body, {
    type: 'body',
    metatype: RunsRequest,
    data: undefined,
  }) as Promise<RunsRequest>;
async function issues(body: unknown) {
  try {
    await parse(body);
  } catch (e) {
    if (e instanceof ValidationError)
      return e.issues.map((i) => `${i.field} ${i.rule}: ${i.message}`);
    throw e;
  }
  throw new Error('accepted');
}
const a = (id: unknown, prompt: unknown = 'go') => ({ id, prompt });
const team = (...units: unknown[]) => ({ agents: { units } });

describe('#13 item 1: RunsRequest cross-field rules (§4.9, A16)', () => {
  it('hostable_id names the ids the position may hold', async () => {
    expect(
      await issues(team({ unitId: 1, manager: a('20'), workers: [a('16'), a('11')] })),
    ).toEqual([
      'agents.units[0].manager.id hostable_id: the manager of unit 1 is 10',
      'agents.units[0].workers[0].id hostable_id: workers of unit 1 are 11, 12, 13, 14, 15',
    ]);
    expect(
      await issues({
        agents: {
          metaManager: a('10'),
          units: [{ unitId: 1, manager: a('10'), workers: [a('11')] }],
        },
      }),
    ).toEqual(['agents.metaManager.id hostable_id: the meta manager is 00']);
  });

  it('A16: a unusable unitId still has its agents checked, hostable_id skipped', async () => {
    expect(
      await issues(team({ unitId: '1', manager: a('1'), workers: [a('99', ''), a('x')] })),
    ).toEqual([
      'agents.units[0].unitId type: must be an integer from 1 to 4',
      'agents.units[0].manager.id pattern: must be two digits',
      'agents.units[0].workers[0].prompt blank: has no non-whitespace character',
      'agents.units[0].workers[1].id pattern: must be two digits',
    ]);
  });

  it('unique: a later repeat of an id or a unitId, the first valid occurrence wins', async () => {
    expect(
      await issues(
        team(
          { unitId: 1, manager: a('10'), workers: [a('11', '\u0000'), a('11'), a('11')] },
          { unitId: 1, manager: a('10'), workers: [a('12')] },
        ),
      ),
    ).toEqual([
      'agents.units[0].workers[0].prompt control_characters: contains control characters other than TAB and LF',
      'agents.units[0].workers[2].id unique: agent 11 appears twice',
      'agents.units[1].unitId unique: unit 1 appears twice',
      'agents.units[1].manager.id unique: agent 10 appears twice',
    ]);
  });

  it('lists and objects of the wrong shape are one problem each', async () => {
    expect(await issues(team([], null, { unitId: 1, manager: [], workers: {} }))).toEqual([
      'agents.units[0] type: must be an object',
      'agents.units[1] type: must be an object',
      'agents.units[2].manager type: must be an object with id and prompt',
      'agents.units[2].workers type: must be an array of 1 to 5 workers',
    ]);
    expect(await issues({ agents: null })).toEqual(['agents type: must be an object']);
    expect(await issues({})).toEqual(['agents required: must be an object']);
  });

  it('the plan holds known keys only, prompts as sent in config and normalised to type', async () => {
    const req = await parse({
      x: 1,
      agents: {
        y: 2,
        units: [
          { unitId: 1, z: 3, manager: { id: '10', prompt: 'a\r\nb', w: 4 }, workers: [a('11')] },
        ],
      },
    });
    const plan = runPlan(req);
    expect(plan.roster).toEqual(['10', '11']);
    expect(plan.prompts.get('10')).toBe('a\nb');
    expect(JSON.stringify(plan.config)).toBe(
      '{"units":[{"unitId":1,"manager":{"id":"10","prompt":"a\\r\\nb"},"workers":[{"id":"11","prompt":"go"}]}]}',
    );
  });
});
